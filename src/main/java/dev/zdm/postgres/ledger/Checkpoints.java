package dev.zdm.postgres.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Where a batched job is: one row per job in zdm_checkpoints, advanced in the same transaction as
 * the batch it records. A batch and its checkpoint therefore commit or vanish together, so a job
 * killed at any instant and started again resumes after exactly the rows already updated.
 */
public final class Checkpoints {

    public static final String TABLE = "zdm_checkpoints";

    /**
     * {@code lastKey} null: no batch has committed yet. {@code endKey}: the largest key when the job
     * started (null: the table was empty); rows inserted later are not the job's, or it would chase the
     * application's inserts for ever.
     */
    public record State(Long lastKey, Long endKey, long rowsDone, int batchesDone, boolean finished) {
    }

    private Checkpoints() {
    }

    public static void ensureTable(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (job_key text PRIMARY KEY, last_key bigint,"
                    + " rows_done bigint NOT NULL DEFAULT 0, batches_done int NOT NULL DEFAULT 0,"
                    + " finished boolean NOT NULL DEFAULT false)");
            // Checkpoint tables of earlier zdm versions lack the job's end.
            s.execute("ALTER TABLE " + TABLE + " ADD COLUMN IF NOT EXISTS end_key bigint");
        }
    }

    /**
     * The job's row, created at its start if it is new, with {@code endKeyNow} as its end; a resumed
     * job keeps the end it started with.
     */
    public static State start(Connection c, String jobKey, Long endKeyNow) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO " + TABLE + " (job_key, end_key) VALUES (?, ?) ON CONFLICT (job_key) DO NOTHING")) {
            ps.setString(1, jobKey);
            ps.setObject(2, endKeyNow, java.sql.Types.BIGINT);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT last_key, end_key, rows_done, batches_done, finished FROM " + TABLE + " WHERE job_key = ?")) {
            ps.setString(1, jobKey);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Long lastKey = rs.getObject(1) == null ? null : rs.getLong(1);
                Long endKey = rs.getObject(2) == null ? null : rs.getLong(2);
                return new State(lastKey, endKey, rs.getLong(3), rs.getInt(4), rs.getBoolean(5));
            }
        }
    }

    /** Records one batch; call inside the batch's transaction. */
    public static void advance(Connection c, String jobKey, long lastKey, long rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + TABLE
                + " SET last_key = ?, rows_done = rows_done + ?, batches_done = batches_done + 1 WHERE job_key = ?")) {
            ps.setLong(1, lastKey);
            ps.setLong(2, rows);
            ps.setString(3, jobKey);
            ps.executeUpdate();
        }
    }

    public static void finish(Connection c, String jobKey) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + TABLE + " SET finished = true WHERE job_key = ?")) {
            ps.setString(1, jobKey);
            ps.executeUpdate();
        }
    }

    /** Forgets a job whose work was undone with the rest of its plan, so a retry starts afresh. */
    public static void forget(Connection c, String jobKey) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + TABLE + " WHERE job_key = ?")) {
            ps.setString(1, jobKey);
            ps.executeUpdate();
        }
    }
}
