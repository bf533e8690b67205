package dev.zdm.postgres.ledger;

import dev.zdm.pg.KeyPosition;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a batched step is: a row of zdm.checkpoints that belongs to its operation and step and is bound
 * to the object it fills (the table's OID, and for add_column's backfill the column's attnum), advanced
 * in the same transaction as the batch it records. A batch and its checkpoint commit or vanish
 * together, so a job killed at any instant resumes after exactly the rows already done; a position
 * bound to another table or column (dropped and made again) is forgotten, so that job starts afresh.
 *
 * <p>A position is the key's values as text ({@code last_position}, {@code end_position}) along the walk
 * named in {@code walk}; a position of a single integer key is also kept in {@code last_key} and
 * {@code end_key}, where a checkpoint written before positions of any key has it (its walk is null).
 */
public final class Checkpoints {

    /** The step a checkpoint belongs to and the object it fills; {@code attnum} null: the whole table. */
    public record Binding(long operationId, int step, long tableOid, Integer attnum) {
    }

    /**
     * {@code lastKey} null: no batch has committed yet. {@code endKey}: where the job ends, the largest
     * key when the job started (null: the table was empty); rows inserted later are not the job's, or it
     * would chase the application's inserts for ever. {@code walk}: the walk the positions are along
     * (null: a checkpoint of an older zdm, along the single integer primary key).
     */
    public record State(KeyPosition lastKey, KeyPosition endKey, long rowsDone, int batchesDone, boolean finished,
                        String walk) {
    }

    private Checkpoints() {
    }

    /** The job's position, if it has one bound to this very object. */
    public static Optional<State> read(Connection c, Binding b) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT coalesce(last_position, ARRAY[last_key::text]), coalesce(end_position, ARRAY[end_key::text]),
                       rows_done, batches_done, finished, table_oid, attnum, walk
                FROM zdm.checkpoints WHERE operation_id = ? AND step = ?""")) {
            ps.setLong(1, b.operationId());
            ps.setInt(2, b.step());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Integer attnum = rs.getObject(7) == null ? null : rs.getInt(7);
                if (rs.getLong(6) != b.tableOid() || !Objects.equals(attnum, b.attnum())) {
                    forget(c, b);
                    return Optional.empty();
                }
                return Optional.of(new State(position(rs.getArray(1)), position(rs.getArray(2)), rs.getLong(3),
                        rs.getInt(4), rs.getBoolean(5), rs.getString(8)));
            }
        }
    }

    /** A new job along {@code walk} ending at {@code endKey}; {@code integerKey}: the position is also a bigint. */
    public static State create(Connection c, Binding b, String walk, KeyPosition endKey, boolean integerKey)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO zdm.checkpoints (operation_id, step, table_oid, attnum, end_key, walk, end_position)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (operation_id, step) DO UPDATE SET table_oid = excluded.table_oid,
                    attnum = excluded.attnum, end_key = excluded.end_key, last_key = NULL, rows_done = 0,
                    batches_done = 0, finished = false, walk = excluded.walk, end_position = excluded.end_position,
                    last_position = NULL""")) {
            ps.setLong(1, b.operationId());
            ps.setInt(2, b.step());
            ps.setLong(3, b.tableOid());
            ps.setObject(4, b.attnum(), Types.SMALLINT);
            ps.setObject(5, integerKey ? bigint(endKey) : null, Types.BIGINT);
            ps.setString(6, walk);
            ps.setArray(7, array(c, endKey));
            ps.executeUpdate();
        }
        return new State(null, endKey, 0, 0, false, walk);
    }

    /**
     * The job's end moved to {@code endKey} (a resumed job, or a new pass of a walk by blocks, which
     * starts again from the beginning when {@code fromStart}); answers the job's state.
     */
    public static State extend(Connection c, Binding b, State state, KeyPosition endKey, boolean integerKey,
                               boolean fromStart) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE zdm.checkpoints SET end_key = ?, end_position = ?"
                + (fromStart ? ", last_key = NULL, last_position = NULL" : "") + " WHERE operation_id = ? AND step = ?")) {
            ps.setObject(1, integerKey ? bigint(endKey) : null, Types.BIGINT);
            ps.setArray(2, array(c, endKey));
            ps.setLong(3, b.operationId());
            ps.setInt(4, b.step());
            ps.executeUpdate();
        }
        return new State(fromStart ? null : state.lastKey(), endKey, state.rowsDone(), state.batchesDone(), false,
                state.walk());
    }

    /** Records one batch; call inside the batch's transaction. */
    public static void advance(Connection c, Binding b, KeyPosition lastKey, long rows, boolean integerKey)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE zdm.checkpoints SET last_key = ?, last_position = ?, rows_done = rows_done + ?,
                    batches_done = batches_done + 1
                WHERE operation_id = ? AND step = ?""")) {
            ps.setObject(1, integerKey ? bigint(lastKey) : null, Types.BIGINT);
            ps.setArray(2, array(c, lastKey));
            ps.setLong(3, rows);
            ps.setLong(4, b.operationId());
            ps.setInt(5, b.step());
            ps.executeUpdate();
        }
    }

    public static void finish(Connection c, Binding b) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE zdm.checkpoints SET finished = true WHERE operation_id = ? AND step = ?")) {
            ps.setLong(1, b.operationId());
            ps.setInt(2, b.step());
            ps.executeUpdate();
        }
    }

    /** The progress a refused or stopped request reports: rows and batches committed so far. */
    public static Optional<State> latest(Connection c, long operationId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT rows_done, batches_done, finished, walk FROM zdm.checkpoints
                WHERE operation_id = ? ORDER BY step DESC LIMIT 1""")) {
            ps.setLong(1, operationId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new State(null, null, rs.getLong(1), rs.getInt(2), rs.getBoolean(3),
                        rs.getString(4))) : Optional.empty();
            }
        }
    }

    private static void forget(Connection c, Binding b) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM zdm.checkpoints WHERE operation_id = ? AND step = ?")) {
            ps.setLong(1, b.operationId());
            ps.setInt(2, b.step());
            ps.executeUpdate();
        }
    }

    private static KeyPosition position(Array array) throws SQLException {
        if (array == null) {
            return null;
        }
        String[] values = (String[]) array.getArray();
        return values.length == 0 || Arrays.stream(values).anyMatch(Objects::isNull) ? null : new KeyPosition(Arrays.asList(values));
    }

    private static Array array(Connection c, KeyPosition position) throws SQLException {
        return position == null ? null : c.createArrayOf("text", position.values().toArray());
    }

    private static Long bigint(KeyPosition position) {
        return position == null ? null : Long.valueOf(position.values().get(0));
    }
}
