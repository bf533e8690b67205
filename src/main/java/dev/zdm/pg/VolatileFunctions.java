package dev.zdm.pg;

import java.util.Set;

/**
 * Built-in functions whose pg_proc.provolatile is 'v', the ones a column DEFAULT plausibly calls. A
 * DEFAULT that calls one is evaluated per row, so ADD COLUMN with it rewrites the table in every
 * version. now(), current_timestamp and friends are STABLE: evaluated once, no rewrite. The
 * PostgreSQL engine asks pg_proc instead of this list.
 */
public final class VolatileFunctions {

    private static final Set<String> NAMES = Set.of(
            "random", "random_normal", "setseed", "clock_timestamp", "timeofday", "gen_random_uuid",
            "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "nextval", "setval", "currval",
            "lastval", "pg_sleep");

    private VolatileFunctions() {
    }

    public static boolean isVolatile(SqlExpression expression) {
        return expression.functionNames().stream().anyMatch(NAMES::contains);
    }
}
