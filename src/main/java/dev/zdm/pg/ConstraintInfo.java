package dev.zdm.pg;

import java.util.List;

/**
 * A table constraint as the planner needs to know it: its kind, the columns it is on, whether it is
 * validated, the index that backs a unique or primary key, and what a foreign key references.
 * {@code columns} may be empty where they are not known (a hand-written schema's constraint).
 */
public record ConstraintInfo(SqlName table, SqlName name, Kind kind, List<SqlName> columns, boolean validated,
                             SqlName index, SqlName refTable, List<SqlName> refColumns, Action onUpdate) {

    /**
     * A foreign key's ON UPDATE action (pg_constraint.confupdtype), and the lock its trigger takes on the
     * referencing table when a referenced key changes (ri_triggers.c): NO ACTION and RESTRICT look for
     * referencing rows with SELECT ... FOR KEY SHARE (ROW SHARE), the others UPDATE them (ROW EXCLUSIVE).
     * Checked on PostgreSQL 15 in pg_locks.
     */
    public enum Action {
        NO_ACTION("a"), RESTRICT("r"), CASCADE("c"), SET_NULL("n"), SET_DEFAULT("d");

        private final String code;

        Action(String code) {
            this.code = code;
        }

        public static Action ofCode(String code) {
            for (Action a : values()) {
                if (a.code.equals(code)) {
                    return a;
                }
            }
            return NO_ACTION;
        }

        /** As pg_get_constraintdef spells it after ON UPDATE: "CASCADE", "SET NULL", ... */
        public static Action ofWords(String words) {
            return switch (words.trim().toUpperCase(java.util.Locale.ROOT).replaceAll("\\s+", " ")) {
                case "RESTRICT" -> RESTRICT;
                case "CASCADE" -> CASCADE;
                case "SET NULL" -> SET_NULL;
                case "SET DEFAULT" -> SET_DEFAULT;
                default -> NO_ACTION;
            };
        }

        public LockMode lockOnReferencing() {
            return this == NO_ACTION || this == RESTRICT ? LockMode.ROW_SHARE : LockMode.ROW_EXCLUSIVE;
        }
    }

    /** A constraint whose ON UPDATE is NO ACTION (every kind but a foreign key has none to speak of). */
    public ConstraintInfo(SqlName table, SqlName name, Kind kind, List<SqlName> columns, boolean validated,
                          SqlName index, SqlName refTable, List<SqlName> refColumns) {
        this(table, name, kind, columns, validated, index, refTable, refColumns, Action.NO_ACTION);
    }

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
        onUpdate = onUpdate == null ? Action.NO_ACTION : onUpdate;
    }

    /** A unique or primary key: what a foreign key may reference. */
    public boolean isKey() {
        return kind == Kind.UNIQUE || kind == Kind.PRIMARY_KEY;
    }
}
