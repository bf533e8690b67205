package dev.zdm.pg;

import java.util.List;

/**
 * A table constraint as the planner needs to know it: its kind, the columns it is on, whether it is
 * validated, the index that backs a unique or primary key, and what a foreign key references.
 * {@code columns} may be empty where they are not known (a hand-written schema's constraint).
 */
public record ConstraintInfo(SqlName table, SqlName name, Kind kind, List<SqlName> columns, boolean validated,
                             SqlName index, SqlName refTable, List<SqlName> refColumns) {

    /** pg_constraint.contype, as zdm names it. */
    public enum Kind {
        CHECK("c"), FOREIGN_KEY("f"), UNIQUE("u"), PRIMARY_KEY("p"), EXCLUSION("x"),
        /** A column's NOT NULL, a constraint of its own from PostgreSQL 18 ({@link ServerVersion#notNullIsConstraint}). */
        NOT_NULL("n"), OTHER("");

        private final String contype;

        Kind(String contype) {
            this.contype = contype;
        }

        public static Kind ofContype(String contype) {
            for (Kind kind : values()) {
                if (kind.contype.equals(contype)) {
                    return kind;
                }
            }
            return OTHER;
        }

        /** As a message spells it: check, foreign_key, unique, primary_key, exclusion. */
        public static Kind ofName(String name) {
            return switch (name) {
                case "check" -> CHECK;
                case "foreign_key" -> FOREIGN_KEY;
                case "unique" -> UNIQUE;
                case "primary_key" -> PRIMARY_KEY;
                case "exclusion" -> EXCLUSION;
                case "not_null" -> NOT_NULL;
                default -> OTHER;
            };
        }

        /** A unique or primary key: made from a unique index. */
        public boolean isKeyKind() {
            return this == UNIQUE || this == PRIMARY_KEY;
        }

        @Override
        public String toString() {
            return name().toLowerCase().replace('_', ' ');
        }
    }

    public ConstraintInfo {
        columns = List.copyOf(columns);
        refColumns = refColumns == null ? List.of() : List.copyOf(refColumns);
    }

    /** A unique or primary key: what a foreign key may reference. */
    public boolean isKey() {
        return kind == Kind.UNIQUE || kind == Kind.PRIMARY_KEY;
    }
}
