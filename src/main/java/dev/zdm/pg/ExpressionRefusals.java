package dev.zdm.pg;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the server refuses in an expression as it analyses the statement, before any row (parse_expr.c,
 * parse_agg.c, parse_func.c, each by where the expression stands): in a DEFAULT a subquery or a column
 * reference (0A000), anywhere an aggregate (42803), a window function (42P20, or 42809 without OVER)
 * and a set-returning function outside a subquery (0A000). Names are judged by the facts of the
 * version; what the scan cannot be sure of is left to the server.
 */
public final class ExpressionRefusals {

    /** Where the expression stands, as the server's messages say it. */
    public enum Place {
        DEFAULT("DEFAULT expressions"), UPDATE("UPDATE"), WHERE("WHERE"), CHECK("check constraints");

        private final String words;

        Place(String words) {
            this.words = words;
        }
    }

    private static final Pattern WORD = Pattern.compile("(?<![A-Za-z0-9_$.])[A-Za-z_][A-Za-z0-9_$]*");
    private static final Pattern SUBQUERY = Pattern.compile("(?i)(?<![A-Za-z0-9_$.])select(?![A-Za-z0-9_$])");
    private static final Pattern OVER = Pattern.compile("(?i)\\)\\s*over(?![A-Za-z0-9_$])");

    private ExpressionRefusals() {
    }

    public static void check(ServerVersion version, SqlExpression expression, Place place) {
        String code = expression.code();
        boolean subquery = SUBQUERY.matcher(code).find();
        if (place == Place.DEFAULT) {
            if (subquery) {
                throw refused("0A000", ErrorCode.PRECONDITION_FAILED, "cannot use subquery in DEFAULT expression");
            }
            Set<String> columns = columnReferences(version, expression);
            columns.addAll(qualifiedReferences(expression.codeWithoutQuotedNames()));
            if (!columns.isEmpty()) {
                throw refused("0A000", ErrorCode.PRECONDITION_FAILED, "cannot use column reference in DEFAULT expression ("
                        + String.join(", ", columns) + "): a default cannot read the row; fill the column with"
                        + " migrate_data after adding it");
            }
        }
        if (subquery) {
            // Aggregates and set-returning functions are allowed inside it: which call stands where, the server says.
            return;
        }
        Set<String> calls = calls(code);
        if (calls.isEmpty() && !OVER.matcher(code).find()) {
            // Nothing called: no facts to load (a cold node's first migrate_data pays for none).
            return;
        }
        PgFacts facts = PgFacts.of(version);
        for (String name : calls) {
            if (facts.aggregate(name)) {
                throw refused("42803", ErrorCode.MALFORMED_REQUEST, "aggregate functions are not allowed in " + place.words
                        + " (" + name + ")");
            }
        }
        if (OVER.matcher(code).find()) {
            throw refused("42P20", ErrorCode.MALFORMED_REQUEST, "window functions are not allowed in " + place.words);
        }
        for (String name : calls) {
            if (facts.windowFunction(name)) {
                throw refused("42809", ErrorCode.MALFORMED_REQUEST, "window function " + name + " requires an OVER clause");
            }
        }
        for (String name : calls) {
            if (facts.setReturning(name)) {
                throw refused("0A000", ErrorCode.PRECONDITION_FAILED, "set-returning functions are not allowed in "
                        + place.words + " (" + name + ")");
            }
        }
    }

    /**
     * The names in the expression that can only be columns of the row: no keyword, type or function of
     * the version, not called, not qualified, no cast's target, no typed literal's type, no field of
     * extract, no quoted name (only the server reads those). Empty when a subquery is in it (its names
     * may be another table's).
     */
    public static Set<String> columnReferences(ServerVersion version, SqlExpression expression) {
        return columnReferences(version, expression, name -> false);
    }

    /** The same, leaving out the names {@code column} knows for columns without asking the facts about them. */
    public static Set<String> columnReferences(ServerVersion version, SqlExpression expression,
                                               java.util.function.Predicate<String> column) {
        String code = expression.codeWithoutQuotedNames();
        Set<String> names = new LinkedHashSet<>();
        if (SUBQUERY.matcher(code).find()) {
            return names;
        }
        PgFacts facts = null;
        Matcher m = WORD.matcher(code);
        while (m.find()) {
            String word = m.group();
            String lower = word.toLowerCase(Locale.ROOT);
            String before = code.substring(0, m.start()).stripTrailing();
            String after = code.substring(m.end()).stripLeading();
            if (column.test(word)) {
                continue;
            }
            if (facts == null) {
                facts = PgFacts.of(version);
            }
            if (after.startsWith("(") || after.startsWith(".") || after.startsWith("'") || after.startsWith("=>")
                    || after.startsWith(":=") || before.endsWith("::") || before.endsWith(".")
                    || precededBy(before, "as") || precededBy(before, "collate") || precededBy(before, "over")
                    || before.toLowerCase(Locale.ROOT).matches("(?s).*\\bextract\\s*\\(")
                    || facts.keyword(lower) || facts.canonicalType(lower).isPresent() || facts.callable(lower)) {
                continue;
            }
            names.add(word);
        }
        return names;
    }

    private static final Pattern QUALIFIED = Pattern.compile(
            "(?<![A-Za-z0-9_$.])[A-Za-z_][A-Za-z0-9_$]*(\\s*\\.\\s*[A-Za-z_][A-Za-z0-9_$]*)+(?![A-Za-z0-9_$])(?!\\s*[.('])");

    /** table.column (or schema.table.column): a dotted name no function call, cast target or collation. */
    private static Set<String> qualifiedReferences(String code) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = QUALIFIED.matcher(code);
        while (m.find()) {
            String before = code.substring(0, m.start()).stripTrailing();
            if (!before.endsWith("::") && !precededBy(before, "as") && !precededBy(before, "collate")) {
                names.add(m.group().replaceAll("\\s", ""));
            }
        }
        return names;
    }

    private static boolean precededBy(String before, String word) {
        String lower = before.toLowerCase(Locale.ROOT);
        return lower.endsWith(word) && (lower.length() == word.length()
                || !Character.isLetterOrDigit(lower.charAt(lower.length() - word.length() - 1))
                && lower.charAt(lower.length() - word.length() - 1) != '_');
    }

    /** Names called as functions, not after a dot (a schema's function may be anything). */
    private static Set<String> calls(String code) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = WORD.matcher(code);
        while (m.find()) {
            if (code.substring(m.end()).stripLeading().startsWith("(")) {
                names.add(m.group().toLowerCase(Locale.ROOT));
            }
        }
        return names;
    }

    private static ZdmException refused(String sqlState, ErrorCode code, String message) {
        return new ZdmException(code, message + " (SQLSTATE " + sqlState + ": PostgreSQL refuses it as it analyses"
                + " the statement, before any row)");
    }
}
