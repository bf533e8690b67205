package dev.zdm.postgres.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * zdm.operations: one row per operation (by its fingerprint) with its request, plan, state, the steps
 * done and, in zdm.objects, what each step made. Every write is its own short autocommit statement on
 * rows of zdm's own tables, or joins the transaction of the step it records (see {@link #record}).
 */
public final class Ledger {

    public enum State {
        RUNNING, DONE, FAILED, UNDO_PENDING;

        public String sql() {
            return name().toLowerCase();
        }

        static State of(String sql) {
            return valueOf(sql.toUpperCase());
        }
    }

    public record Entry(long id, String kind, String tableName, long tableOid, State state, int stepsDone,
                        String detail) {
    }

    private Ledger() {
    }

    public static Optional<Entry> find(Connection c, Fingerprint fingerprint) throws SQLException {
        return one(c, "fingerprint = ?", ps -> ps.setString(1, fingerprint.hex()));
    }

    public static Optional<Entry> get(Connection c, long id) throws SQLException {
        return one(c, "id = ?", ps -> ps.setLong(1, id));
    }

    /**
     * An operation with something left for the background: {@code budgetMs} is the lock budget its
     * request asked for (null: recorded by a zdm that did not keep it), {@code orphan} that it is not
     * undo_pending but was left running or failed by an owner that may be gone.
     */
    public record Pending(long id, Fingerprint fingerprint, Long budgetMs, boolean orphan) {
    }

    /**
     * Operations whose undo is left to do, and those left running or failed with an index not undone
     * (a build whose owner died: its INVALID index slows every write until dropped), oldest first.
     * Whether the owner is really gone is for the caller to learn from the operation's advisory lock.
     */
    public static List<Pending> undoPending(Connection c) throws SQLException {
        List<Pending> pending = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, fingerprint, max_lock_duration_ms, state <> 'undo_pending' FROM zdm.operations o
                WHERE state = 'undo_pending' OR state IN ('running', 'failed') AND EXISTS (SELECT 1 FROM zdm.objects
                    WHERE operation_id = o.id AND kind = 'index' AND NOT undone)
                ORDER BY id""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                pending.add(new Pending(rs.getLong(1), Fingerprint.ofHex(rs.getString(2)),
                        rs.getObject(3) == null ? null : rs.getLong(3), rs.getBoolean(4)));
            }
        }
        return pending;
    }

    /** Keeps the lock budget the operation's request asked for: every background retry of its undo keeps it. */
    public static void budget(Connection c, long id, long budgetMs) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE zdm.operations SET max_lock_duration_ms = ? WHERE id = ?")) {
            ps.setLong(1, budgetMs);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
    }

    /** The plan the operation's last run started with, as recorded (the statements' SQL, as JSON). */
    public static String plan(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT plan::text FROM zdm.operations WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** An unfinished operation and the request that started it, for a reply that says how to finish it. */
    public record Unfinished(long id, String kind, String state, String requestJson) {
    }

    /**
     * The unfinished operation (not done) that made column {@code column} of table {@code tableOid}
     * and whose column is still there at the attnum it recorded.
     */
    public static Optional<Unfinished> columnOwner(Connection c, long tableOid, String column) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT o.id, o.kind, o.state, o.request::text FROM zdm.operations o
                JOIN zdm.objects m ON m.operation_id = o.id AND m.kind = 'column' AND NOT m.undone
                JOIN pg_attribute a ON a.attrelid = m.table_oid AND a.attnum = m.attnum AND NOT a.attisdropped
                WHERE o.state <> 'done' AND m.table_oid = ? AND m.name = ? AND a.attname = m.name
                ORDER BY o.id DESC LIMIT 1""")) {
            ps.setLong(1, tableOid);
            ps.setString(2, column);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Unfinished(rs.getLong(1), rs.getString(2), rs.getString(3),
                        rs.getString(4))) : Optional.empty();
            }
        }
    }

    /** Whether table {@code tableOid} has column {@code name} at {@code attnum}. */
    public static boolean columnAt(Connection c, long tableOid, int attnum, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_attribute WHERE attrelid = ? AND attnum = ?"
                + " AND attname = ? AND NOT attisdropped")) {
            ps.setLong(1, tableOid);
            ps.setInt(2, attnum);
            ps.setString(3, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Whether what the operation's step made is a column still there at the attnum it recorded. */
    public static Optional<MadeObject> liveColumn(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT m.step FROM zdm.objects m
                JOIN pg_attribute a ON a.attrelid = m.table_oid AND a.attnum = m.attnum AND NOT a.attisdropped
                WHERE m.operation_id = ? AND m.kind = 'column' AND NOT m.undone AND a.attname = m.name""")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? madeBy(c, id, rs.getInt(1)) : Optional.empty();
            }
        }
    }

    /**
     * The newest constraint the operation made that is still that OID, of its name, on its table: one a
     * crashed run committed (NOT VALID, before its VALIDATE) and that the application's writes are
     * checked against already. Resumed, not dropped and added again.
     */
    public static Optional<MadeObject> liveConstraint(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT m.step FROM zdm.objects m
                JOIN pg_constraint k ON k.oid = m.object_oid AND k.conrelid = m.table_oid AND k.conname = m.name
                WHERE m.operation_id = ? AND m.kind = 'constraint' AND NOT m.undone
                ORDER BY m.step DESC LIMIT 1""")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? madeBy(c, id, rs.getInt(1)) : Optional.empty();
            }
        }
    }

    /**
     * The index the operation's build made, if it is still that OID, VALID, on the operation's table
     * {@code tableOid} and of the name it was made with: a concurrent build whose client was gone (a
     * node killed mid-build) that the server finished anyway. Its undo mark does not matter: an undo
     * keeps a valid index, so a marked one that is still there was never dropped.
     */
    public static Optional<MadeObject> builtIndex(Connection c, long id, long tableOid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT m.step, m.name, m.object_oid FROM zdm.objects m
                JOIN pg_index i ON i.indexrelid = m.object_oid AND i.indrelid = m.table_oid
                JOIN pg_class x ON x.oid = i.indexrelid
                WHERE m.operation_id = ? AND m.kind = 'index' AND m.table_oid = ? AND i.indisvalid
                  AND x.relname = m.name
                ORDER BY m.step DESC LIMIT 1""")) {
            ps.setLong(1, id);
            ps.setLong(2, tableOid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(MadeObject.index(rs.getInt(1), rs.getString(2), tableOid, rs.getLong(3)))
                        : Optional.empty();
            }
        }
    }

    /**
     * The operation's row, running, with this plan: a new row, or the existing one. {@code fresh}
     * forgets what an earlier run made and where its batches were (a run that starts from step 1).
     */
    public static long begin(Connection c, Fingerprint fingerprint, String kind, String tableName, long tableOid,
                             String requestJson, String planJson, boolean fresh) throws SQLException {
        long id;
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO zdm.operations (fingerprint, kind, table_name, table_oid, request, plan, state)
                VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb, 'running')
                ON CONFLICT (fingerprint) DO UPDATE SET table_name = excluded.table_name,
                    table_oid = excluded.table_oid, request = excluded.request, plan = excluded.plan,
                    state = 'running', detail = NULL, updated_at = clock_timestamp()
                RETURNING id""")) {
            ps.setString(1, fingerprint.hex());
            ps.setString(2, kind);
            ps.setString(3, tableName);
            ps.setLong(4, tableOid);
            ps.setString(5, requestJson);
            ps.setString(6, planJson);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        if (fresh) {
            update(c, "DELETE FROM zdm.objects WHERE operation_id = ?", id);
            update(c, "DELETE FROM zdm.checkpoints WHERE operation_id = ?", id);
            update(c, "UPDATE zdm.operations SET steps_done = 0 WHERE id = ?", id);
        }
        return id;
    }

    public static void stepsDone(Connection c, long id, int stepsDone) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE zdm.operations SET steps_done = ?, updated_at = clock_timestamp() WHERE id = ?")) {
            ps.setInt(1, stepsDone);
            ps.setLong(2, id);
            if (ps.executeUpdate() == 0) {
                throw new LedgerLost("step " + stepsDone + " of operation " + id);
            }
        }
    }

    public static void state(Connection c, long id, State state, String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE zdm.operations SET state = ?, detail = ?, updated_at = clock_timestamp() WHERE id = ?")) {
            ps.setString(1, state.sql());
            ps.setString(2, detail);
            ps.setLong(3, id);
            ps.executeUpdate();
        }
    }

    /**
     * Records what a step made. Called inside the step's own transaction where it has one, so the
     * object and its record commit together: no crash can leave a column zdm made but does not know.
     */
    public static void record(Connection c, long id, MadeObject o) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO zdm.objects (operation_id, step, kind, name, table_oid, object_oid, attnum)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (operation_id, step) DO UPDATE SET kind = excluded.kind, name = excluded.name,
                    table_oid = excluded.table_oid, object_oid = excluded.object_oid, attnum = excluded.attnum,
                    undone = false""")) {
            ps.setLong(1, id);
            ps.setInt(2, o.step());
            ps.setString(3, o.kind().sql());
            ps.setString(4, o.name());
            ps.setLong(5, o.tableOid());
            ps.setObject(6, o.oid(), Types.BIGINT);
            ps.setObject(7, o.attnum(), Types.SMALLINT);
            ps.executeUpdate();
        }
    }

    public static void undone(Connection c, long id, int step) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE zdm.objects SET undone = true WHERE operation_id = ? AND step = ?")) {
            ps.setLong(1, id);
            ps.setInt(2, step);
            ps.executeUpdate();
        }
    }

    /** What the operation made and has not undone, newest step first: the order to undo it in. */
    public static List<MadeObject> leftovers(Connection c, long id) throws SQLException {
        List<MadeObject> objects = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT step, kind, name, table_oid, object_oid, attnum FROM zdm.objects
                WHERE operation_id = ? AND NOT undone ORDER BY step DESC""")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    objects.add(new MadeObject(rs.getInt(1), MadeObject.Kind.of(rs.getString(2)), rs.getString(3),
                            rs.getLong(4), rs.getObject(5) == null ? null : rs.getLong(5),
                            rs.getObject(6) == null ? null : rs.getInt(6), false));
                }
            }
        }
        return objects;
    }

    /** The object a step made, if it recorded one. */
    public static Optional<MadeObject> madeBy(Connection c, long id, int step) throws SQLException {
        return leftovers(c, id).stream().filter(o -> o.step() == step).findFirst();
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private static Optional<Entry> one(Connection c, String where, Binder binder) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id, kind, table_name, table_oid, state, steps_done,"
                + " detail FROM zdm.operations WHERE " + where)) {
            binder.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Entry(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4),
                        State.of(rs.getString(5)), rs.getInt(6), rs.getString(7)));
            }
        }
    }

    private static void update(Connection c, String sql, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id);
            ps.executeUpdate();
        }
    }
}
