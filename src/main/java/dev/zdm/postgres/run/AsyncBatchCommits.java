package dev.zdm.postgres.run;

import dev.zdm.Log;
import dev.zdm.postgres.connect.PgErrors;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A backfill's batches commit without waiting for their WAL to reach disk (synchronous_commit off, for
 * the migration's session only), and the job waits once, at its end, for all of it.
 *
 * <p>Why this is safe: a batch and its checkpoint row commit in one transaction, and WAL is replayed in
 * order, so a server crash can only lose a suffix of the batches, each together with its checkpoint; the
 * same request then resumes after the last batch that survived and redoes exactly the lost ones, even
 * for a non-idempotent {@code n = n + 1}. What must not be lost is what the reply claims, so before the
 * job answers, {@link #makeDurable} commits one transaction synchronously, which flushes the WAL up to its
 * own commit record and so every batch before it. What it saves: one WAL flush (an fsync, and on a
 * synchronous standby a network round trip) per batch.
 */
final class AsyncBatchCommits {

    private AsyncBatchCommits() {
    }

    static void start(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET synchronous_commit = off");
        }
    }

    /** Back to the session's own setting, and every batch committed so far on disk when this returns. */
    static void makeDurable(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("RESET synchronous_commit");
            // A transaction with an xid commits synchronously now: its commit waits for the WAL flush up to
            // its own commit record, which is after every batch's. (txid_current(), not pg_current_xact_id(): that is 13+.)
            try (ResultSet rs = s.executeQuery("SELECT txid_current()")) {
                rs.next();
            }
        }
    }

    /**
     * The same on a job that failed: its own error is what the reply says, so a connection too broken to
     * flush (then the session and its setting are gone with it) is logged, not thrown over that error.
     */
    static void makeDurableAfterFailure(Connection c) {
        try {
            if (!c.isClosed()) {
                makeDurable(c);
            }
        } catch (SQLException e) {
            Log.info("flushing the committed batches after a failure: " + PgErrors.firstLine(e));
        }
    }
}
