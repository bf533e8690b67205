package dev.zdm.postgres;

import dev.zdm.Log;
import dev.zdm.pg.Backfill;
import dev.zdm.pg.LockMode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;

/**
 * Runs a {@link Backfill} as keyset batches along the integer primary key: each batch locks the next
 * {@code batchSize} matching rows after the last key done (FOR UPDATE, so a row changed meanwhile is
 * re-checked against the condition), updates them and advances the job's checkpoint, all in one short
 * transaction under lock_timeout. The job ends at the first empty batch or at its row limit.
 */
final class BackfillRunner {

    /** A progress line on stderr at most this often, so a long job shows it is alive without flooding. */
    static final long PROGRESS_EVERY_MS = 5_000;
    private static final Set<String> INTEGER_TYPES = Set.of("int2", "int4", "int8");

    private BackfillRunner() {
    }

    static StepReport run(Backfill job, StepContext ctx) throws LockWaitTimedOut, SQLException {
        Connection c = ctx.backend().connection();
        requireIntegerKey(c, job, ctx.tableOid());
        Checkpoints.ensureTable(c);
        Checkpoints.State state = Checkpoints.start(c, job.jobKey());
        if (state.finished()) {
            Log.info("job " + job.jobKey() + " finished earlier: " + state.rowsDone() + " rows in "
                    + state.batchesDone() + " batches; not run again");
            return new StepReport(job.sql(), null, 0, 0, 0, 0, false, state.rowsDone(), state.batchesDone());
        }
        if (state.lastKey() != null) {
            Log.info("resuming job " + job.jobKey() + " after key " + state.lastKey() + " (" + state.rowsDone()
                    + " rows in " + state.batchesDone() + " batches done)");
        }
        String batchSql = batchSql(job);
        long lastKey = state.lastKey() == null ? Long.MIN_VALUE : state.lastKey();
        long rowsDone = state.rowsDone();
        int batchesDone = state.batchesDone();
        long rowsThisRun = 0;
        long waitedMs = 0;
        LockMode strongest = null;
        long started = System.nanoTime();
        long lastProgress = started;
        LockObserver.Watch watch = ctx.observer().watch(ctx.backend().pid(), ctx.tableOid());
        LockObserver.Observation seen = null;
        try {
            while (true) {
                long limit = job.batchSize();
                if (job.rowLimit() != null) {
                    limit = Math.min(limit, job.rowLimit() - rowsDone);
                }
                StepContext.setLockTimeout(c, ctx.lockBudget());
                c.setAutoCommit(false);
                long batchStarted = System.nanoTime();
                long count;
                long maxKey;
                try {
                    if (limit <= 0) {
                        count = 0;
                        maxKey = lastKey;
                    } else {
                        try (PreparedStatement ps = c.prepareStatement(batchSql)) {
                            ps.setLong(1, lastKey);
                            ps.setLong(2, limit);
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                count = rs.getLong(1);
                                maxKey = count > 0 ? rs.getLong(2) : lastKey;
                            }
                        }
                        strongest = LockModes.stronger(strongest, TableProbe.heldLock(c, ctx.tableOid()));
                    }
                    if (count > 0) {
                        Checkpoints.advance(c, job.jobKey(), maxKey, count);
                    } else {
                        Checkpoints.finish(c, job.jobKey());
                    }
                    c.commit();
                } catch (SQLException e) {
                    StepContext.rollbackQuietly(c);
                    if (PgErrors.lostLockRace(e)) {
                        throw new LockWaitTimedOut(PgErrors.firstLine(e) + " in batch " + (batchesDone + 1),
                                StepContext.millisSince(batchStarted), watch.blockersSoFar(),
                                Map.of("total_rows", rowsDone, "batches", batchesDone));
                    }
                    throw e;
                } finally {
                    StepContext.autocommitQuietly(c);
                }
                if (count == 0) {
                    break;
                }
                lastKey = maxKey;
                rowsDone += count;
                rowsThisRun += count;
                batchesDone++;
                if (StepContext.millisSince(lastProgress) >= PROGRESS_EVERY_MS) {
                    lastProgress = System.nanoTime();
                    Log.info(job.table() + ": " + rowsDone + " rows in " + batchesDone + " batches, last "
                            + job.key() + " " + lastKey);
                }
                if (job.sleepMs() > 0) {
                    Thread.sleep(job.sleepMs());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZdmException(dev.zdm.protocol.ErrorCode.CRASH, "interrupted after " + rowsDone + " rows in "
                    + batchesDone + " batches (committed; the same request resumes)");
        } finally {
            seen = watch.stop();
        }
        waitedMs += seen.waitedMs();
        long ms = StepContext.millisSince(started);
        LockMode lock = LockModes.stronger(strongest, seen.strongest());
        Log.info(job.table() + ": job done, " + rowsDone + " rows in " + batchesDone + " batches ("
                + rowsThisRun + " rows in " + ms + " ms this run)");
        return new StepReport(job.sql(), lock, ms, seen.blockingHeldMs(), waitedMs, rowsThisRun, false, rowsDone,
                batchesDone);
    }

    /**
     * One batch: the CTE picks and locks the next keys, the UPDATE joins on them, the outer SELECT
     * answers how many rows and the last key. The CTE's column is renamed so that an assignment or a
     * condition naming the key column stays unambiguous.
     */
    static String batchSql(Backfill job) {
        String t = job.table().quoted();
        String k = job.key().quoted();
        return "WITH zdm_batch AS (SELECT " + k + " AS zdm_key FROM " + t + " WHERE " + k + " > ? AND "
                + job.conditionSql() + " ORDER BY " + k + " LIMIT ? FOR UPDATE), "
                + "zdm_done AS (UPDATE " + t + " SET " + job.setClause() + " FROM zdm_batch WHERE " + t + "." + k
                + " = zdm_batch.zdm_key RETURNING " + t + "." + k + " AS zdm_key) "
                + "SELECT count(*), max(zdm_key) FROM zdm_done";
    }

    private static void requireIntegerKey(Connection c, Backfill job, long tableOid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT t.typname FROM pg_attribute a"
                + " JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = ? AND a.attname = ?")) {
            ps.setLong(1, tableOid);
            ps.setString(2, job.key().value());
            try (ResultSet rs = ps.executeQuery()) {
                String type = rs.next() ? rs.getString(1) : "missing";
                if (!INTEGER_TYPES.contains(type)) {
                    throw ZdmException.precondition("batches run along an integer primary key; " + job.table()
                            + "." + job.key() + " is " + type);
                }
            }
        }
    }
}
