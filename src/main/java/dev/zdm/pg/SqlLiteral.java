package dev.zdm.pg;

/**
 * A constant as SQL text that means the same under every server setting. A plain '...' literal reads a
 * backslash as itself only while standard_conforming_strings is on (and as an escape, which can end the
 * literal early, while it is off); an E'...' literal always reads backslash escapes. So text without a
 * backslash is written '...' (quotes doubled), as users read it, and text with one is written E'...'
 * with backslashes and quotes escaped. Both are of type unknown, so the column's type takes them as a
 * literal of its own.
 */
public final class SqlLiteral {

    private SqlLiteral() {
    }

    /** {@code text} as a string constant. */
    public static String of(String text) {
        PgText.require(text, "a constant");
        String quoted = text.replace("'", "''");
        if (text.indexOf('\\') < 0) {
            return "'" + quoted + "'";
        }
        return "E'" + quoted.replace("\\", "\\\\") + "'";
    }
}
