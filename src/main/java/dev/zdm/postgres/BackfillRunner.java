package dev.zdm.postgres;

import dev.zdm.Log;
import dev.zdm.pg.Backfill;
import dev.zdm.pg.LockMode;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Runs a {@link Backfill} as keyset batches along the integer primary key, over the keys that existed
 * when the job started: each batch finds the key range that holds the next {@code batchSize} matching
 * rows after the last key done, updates the matching rows of that range (an index range scan; UPDATE
 * re-checks the condition of a row changed meanwhile) and advances the job's checkpoint, all in one
 * short transaction under lock_timeout. The job ends when no key range is left or at its row limit.
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
        Checkpoints.State state = Checkpoints.start(c, job.jobKey(), largestKey(c, job));
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
        long endKey = state.endKey() == null ? Long.MIN_VALUE : state.endKey();
        long rowsDone = state.rowsDone();
        int batchesDone = state.batchesDone();
        long rowsThisRun = 0;
        long waitedMs = 0;
        LockMode strongest = null;
        long started = System.nanoTime();
        long lastProgress = started;
        LockObserver.Watch watch = ctx.observer().watch(ctx.backend().pid(), ctx.tableOid());
        LockObserver.Observation seen = null;
        BatchSizer sizer = new BatchSizer(job.batchSize(), ctx.lockBudget());
        BatchTimes times = new BatchTimes();
        Throttle throttle = Throttle.of(ctx.throttling());
        boolean durable = false;
        try {
            // Once for the job, not per batch: each SET in autocommit is a round trip and a transaction of its own.
            StepContext.setLockTimeout(c, ctx.lockBudget());
            AsyncBatchCommits.start(c);
            while (true) {
                throttle.awaitClear(c, job.table().value());
                long limit = sizer.next();
                if (job.rowLimit() != null) {
                    limit = Math.min(limit, job.rowLimit() - rowsDone);
                }
                c.setAutoCommit(false);
                long batchStarted = System.nanoTime();
                long count = 0;
                Long rangeEnd = null;
                try {
                    if (limit > 0 && lastKey < endKey) {
                        try (PreparedStatement ps = c.prepareStatement(batchSql)) {
                            ps.setLong(1, lastKey);
                            ps.setLong(2, endKey);
                            ps.setLong(3, limit);
                            ps.setLong(4, lastKey);
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                count = rs.getLong(1);
                                rangeEnd = rs.getObject(2) == null ? null : rs.getLong(2);
                            }
                        }
                        if (strongest == null) {
                            // Every batch takes the same lock; reading it once spares a round trip per batch.
                            strongest = TableProbe.heldLock(c, ctx.tableOid());
                        }
                    }
                    if (rangeEnd != null) {
                        Checkpoints.advance(c, job.jobKey(), rangeEnd, count);
                    } else {
                        Checkpoints.finish(c, job.jobKey());
                    }
                    c.commit();
                    sizer.measured(count, times.add(batchStarted));
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
                if (rangeEnd == null) {
                    break;
                }
                lastKey = rangeEnd;
                rowsDone += count;
                rowsThisRun += count;
                batchesDone++;
                if (StepContext.millisSince(lastProgress) >= PROGRESS_EVERY_MS) {
                    lastProgress = System.nanoTime();
                    Log.info(job.table() + ": " + rowsDone + " rows in " + batchesDone + " batches, last "
                            + job.key() + " " + lastKey + ", next batch " + sizer.next() + " rows, throttled_ms "
                            + throttle.throttledMs());
                }
                if (job.sleepMs() > 0) {
                    Thread.sleep(job.sleepMs());
                }
            }
            AsyncBatchCommits.makeDurable(c);
            durable = true;
        } catch (Throttle.TooLong e) {
            throw new ZdmException(ErrorCode.ABORT, "paused " + e.throttledMs() + " ms, longer than max_throttle_ms, because "
                    + e.getMessage() + "; " + rowsDone + " rows in " + batchesDone
                    + " batches committed and kept: the same request resumes after them",
                    Map.of("table", job.table().value(), "throttled_ms", e.throttledMs(), "total_rows", rowsDone,
                            "batches", batchesDone), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZdmException(ErrorCode.CRASH, "interrupted after " + rowsDone + " rows in "
                    + batchesDone + " batches (committed; the same request resumes)");
        } finally {
            if (!durable) {
                // A failed job's reply still counts its committed batches: they must be on disk first.
                AsyncBatchCommits.makeDurableAfterFailure(c);
            }
            seen = watch.stop();
        }
        waitedMs += seen.waitedMs();
        long ms = StepContext.millisSince(started);
        LockMode lock = LockModes.stronger(strongest, seen.strongest());
        Log.info(job.table() + ": job done, " + rowsDone + " rows in " + batchesDone + " batches ("
                + rowsThisRun + " rows in " + ms + " ms this run, throttled_ms " + throttle.throttledMs() + ")");
        return new StepReport(job.sql(), lock, ms, seen.blockingHeldMs(), waitedMs, rowsThisRun, false, rowsDone,
                batchesDone, figures(times, throttle));
    }

    private static Map<String, Object> figures(BatchTimes times, Throttle throttle) {
        Map<String, Object> figures = new LinkedHashMap<>(times.asMap());
        figures.put("throttled_ms", throttle.throttledMs());
        return figures;
    }

    /**
     * One batch: the first CTE finds where the next {@code LIMIT} matching keys end, the UPDATE works on
     * that key range only, the outer SELECT answers how many rows it updated and where the range ended
     * (null: nothing left). The UPDATE names its rows by a range of the key, not by a join, so the planner
     * walks the primary key index and never chooses a scan of the whole table, generic plan or not.
     */
    static String batchSql(Backfill job) {
        String t = job.table().quoted();
        String k = job.key().quoted();
        String condition = job.conditionSql();
        return "WITH zdm_range AS (SELECT max(zdm_key) AS zdm_end FROM (SELECT " + k + " AS zdm_key FROM " + t
                + " WHERE " + k + " > ? AND " + k + " <= ? AND " + condition + " ORDER BY " + k + " LIMIT ?) zdm_keys), "
                + "zdm_done AS (UPDATE " + t + " SET " + job.setClause() + " WHERE " + k + " > ? AND " + k
                + " <= (SELECT zdm_end FROM zdm_range) AND " + condition + " RETURNING 1) "
                + "SELECT count(*), (SELECT zdm_end FROM zdm_range) FROM zdm_done";
    }

    /** The largest key now: the end of a job that starts now. */
    private static Long largestKey(Connection c, Backfill job) throws SQLException {
        try (var s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT max(" + job.key().quoted() + ") FROM " + job.table().quoted())) {
            rs.next();
            return rs.getObject(1) == null ? null : rs.getLong(1);
        }
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
