package dev.zdm.pg;

/** The DEFAULT of a column being added: none, a constant, or an SQL expression. */
public sealed interface ColumnDefault {

    /** The DEFAULT clause's value, or null when there is none. */
    String sql();

    /** No default, or one that is NULL (DEFAULT NULL, NULL::text): old rows read NULL either way. */
    default boolean isNull() {
        return sql() == null || NULL.matcher(sql()).matches();
    }

    java.util.regex.Pattern NULL = java.util.regex.Pattern.compile(
            "(?i)[\\s(]*null[\\s)]*(::\\s*[a-z_][a-z0-9_ ]*(\\(\\s*\\d+\\s*(,\\s*\\d+\\s*)?\\))?(\\[\\])?[\\s)]*)?");

    record None() implements ColumnDefault {
        @Override
        public String sql() {
            return null;
        }
    }

    /** A literal from the message, already rendered as an SQL literal. */
    record Constant(String sql) implements ColumnDefault {
        public Constant {
            PgText.require(sql, "default");
        }
    }

    /** An expression; {@code volatile_} as the server (or the simulator's function list) says. */
    record Expression(SqlExpression expression, boolean volatile_) implements ColumnDefault {
        @Override
        public String sql() {
            return expression.sql();
        }
    }
}
