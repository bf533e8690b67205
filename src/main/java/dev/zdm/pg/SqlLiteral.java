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

    /**
     * The text of a constant {@link #of} wrote ('...' with quotes doubled, or E'...' with backslashes
     * and quotes escaped); null for anything else (a number, an expression).
     */
    public static String valueOf(String sql) {
        if (sql == null) {
            return null;
        }
        boolean escaped = sql.startsWith("E'");
        int open = escaped ? 1 : 0;
        if (sql.length() < open + 2 || sql.charAt(open) != '\'' || !sql.endsWith("'")) {
            return null;
        }
        String body = sql.substring(open + 1, sql.length() - 1);
        StringBuilder out = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == '\'') {
                if (i + 1 >= body.length() || body.charAt(i + 1) != '\'') {
                    return null;
                }
                i++;
            } else if (escaped && c == '\\') {
                if (i + 1 >= body.length()) {
                    return null;
                }
                c = body.charAt(++i);
            }
            out.append(c);
        }
        return out.toString();
    }
}
