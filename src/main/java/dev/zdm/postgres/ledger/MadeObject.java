package dev.zdm.postgres.ledger;

/**
 * Something a step of an operation created, named the way PostgreSQL names it for good: an index or a
 * constraint by its OID ({@code oid}), a column by its table's OID and its attnum. {@code name} is
 * what it was called when made, for messages; the undo checks the OID or attnum, never only the name.
 */
public record MadeObject(int step, Kind kind, String name, long tableOid, Long oid, Integer attnum, boolean undone) {

    public enum Kind {
        INDEX, CONSTRAINT, COLUMN;

        String sql() {
            return name().toLowerCase();
        }

        static Kind of(String sql) {
            return valueOf(sql.toUpperCase());
        }
    }

    public static MadeObject index(int step, String name, long tableOid, long oid) {
        return new MadeObject(step, Kind.INDEX, name, tableOid, oid, null, false);
    }

    public static MadeObject constraint(int step, String name, long tableOid, long oid) {
        return new MadeObject(step, Kind.CONSTRAINT, name, tableOid, oid, null, false);
    }

    public static MadeObject column(int step, String name, long tableOid, int attnum) {
        return new MadeObject(step, Kind.COLUMN, name, tableOid, null, attnum, false);
    }

    /** For a reply: "column status (attnum 5)", "index idx_email (oid 16423)". */
    public String describe() {
        return kind.sql() + " " + name + (kind == Kind.COLUMN ? " (attnum " + attnum + ")" : " (oid " + oid + ")");
    }
}
