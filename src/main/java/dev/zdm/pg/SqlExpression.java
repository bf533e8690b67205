package dev.zdm.pg;

import dev.zdm.protocol.ZdmException;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An SQL expression a message supplies on purpose (a default, a SET value, a WHERE condition). It can
 * only ever be one expression: no statement separator, no comment, balanced quotes and parentheses;
 * it is written inside parentheses so it cannot extend the statement around it.
 */
public record SqlExpression(String text) {

    public static final int MAX_LENGTH = 2000;
    private static final Pattern FUNCTION_CALL = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");
    private static final Pattern SEQUENCE_LITERAL = Pattern.compile(
            "(?i)\\b(?:nextval|currval|setval)\\s*\\(\\s*'([^']*)'\\s*(?:::\\s*regclass\\s*)?[,)]");

    public SqlExpression {
        if (text == null || text.isBlank()) {
            throw ZdmException.malformed("an SQL expression is empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw ZdmException.malformed("an SQL expression is longer than " + MAX_LENGTH + " characters");
        }
        PgText.require(text, "an SQL expression");
        checkSingleExpression(text);
    }

    /** The expression as it goes into SQL. */
    public String sql() {
        return "(" + text + ")";
    }

    /** Names called as functions outside string literals, lower-cased: random, now, ... */
    public Set<String> functionNames() {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = FUNCTION_CALL.matcher(outsideLiterals(text));
        while (m.find()) {
            names.add(m.group(1).toLowerCase(Locale.ROOT));
        }
        return names;
    }

    /**
     * The relations the sequence functions name by a literal (nextval('orders_id_seq')), as the server
     * resolves the literal when it analyses the expression: folded to lower case unless double-quoted. A
     * literal cast to text first ('s'::text) is resolved only when evaluated, and is left out. A schema-qualified name or one
     * that is no plain identifier is left out: only the server can say what it means.
     */
    public Set<SqlName> sequencesNamed() {
        Set<SqlName> names = new LinkedHashSet<>();
        Matcher m = SEQUENCE_LITERAL.matcher(text);
        while (m.find()) {
            String literal = m.group(1).trim();
            boolean quoted = literal.length() > 1 && literal.startsWith("\"") && literal.endsWith("\"");
            String inner = quoted ? literal.substring(1, literal.length() - 1) : literal;
            // A quoted name is exact (its "" one "); "a"."b" or a.b names a schema, which only the server resolves.
            boolean qualified = quoted ? inner.replace("\"\"", "").contains("\"") : inner.contains(".") || inner.contains("\"");
            String name = quoted ? inner.replace("\"\"", "\"") : inner.toLowerCase(Locale.ROOT);
            if (!qualified) {
                try {
                    names.add(SqlName.of(name));
                } catch (ZdmException notPlain) {
                    // Not a name zdm could have made or check: the server decides.
                }
            }
        }
        return names;
    }

    private static void checkSingleExpression(String text) {
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                // Not even inside a literal: in E'...' (or with standard_conforming_strings off) a
                // backslash escapes the quote, so the server would end the literal elsewhere than this
                // scan does, and what the scan took for literal text (a ';', a comment) would be SQL.
                throw ZdmException.malformed("an SQL expression may not contain '\\'");
            }
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
                continue;
            }
            char next = i + 1 < text.length() ? text.charAt(i + 1) : 0;
            if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == ';') {
                throw ZdmException.malformed("an SQL expression may not contain ';'");
            } else if ((c == '-' && next == '-') || (c == '/' && next == '*')) {
                throw ZdmException.malformed("an SQL expression may not contain a comment");
            } else if (c == '$') {
                throw ZdmException.malformed("an SQL expression may not contain '$' (parameters, dollar quotes)");
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth < 0) {
                throw ZdmException.malformed("an SQL expression has an unmatched ')'");
            }
        }
        if (quote != 0) {
            throw ZdmException.malformed("an SQL expression has an unterminated quote");
        }
        if (depth != 0) {
            throw ZdmException.malformed("an SQL expression has an unmatched '('");
        }
    }

    /** String literals emptied, quoted identifiers unquoted ("random"() calls random() too). */
    private static String outsideLiterals(String text) {
        return text.replaceAll("'[^']*'", "''").replaceAll("\"([^\"]*)\"", "$1");
    }

    @Override
    public String toString() {
        return text;
    }
}
