package dev.zdm.postgres.run;

import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Checkpoints;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import dev.zdm.postgres.observe.LockModes;
import dev.zdm.postgres.observe.LockObserver;
import dev.zdm.postgres.observe.TableProbe;
import dev.zdm.postgres.throttle.Throttle;
import dev.zdm.Log;
import dev.zdm.Stopping;
import dev.zdm.engine.Interrupted;
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
import java.util.Optional;
import java.util.Set;

/**
 * Runs a {@link Backfill} as keyset batches along the integer primary key, over the keys that existed
 * when the job started: each batch finds the key range that holds the next {@code batchSize} matching
 * rows after the last key done, updates the matching rows of that range (an index range scan; UPDATE
 * re-checks the condition of a row changed meanwhile) and advances the job's checkpoint, all in one
 * short transaction under lock_timeout. The job ends when no key range is left or at its row limit.
 */
public final class BackfillRunner {

    /** A progress line on stderr at most this often, so a long job shows it is alive without flooding. */
    public static final long PROGRESS_EVERY_MS = 5_000;
    private static final Set<String> INTEGER_TYPES = Set.of("int2", "int4", "int8");

    private BackfillRunner() {
    }

    public static StepReport run(Backfill job, StepContext ctx) throws LockWaitTimedOut, SQLException {
        Connection c = ctx.backend().connection();
        requireIntegerKey(c, job, ctx.tableOid());
        Checkpoints.Binding binding = new Checkpoints.Binding(ctx.operationId(), ctx.step(), ctx.tableOid(),
                filledColumn(c, job, ctx).orElse(null));
        Optional<Checkpoints.State> earlier = Checkpoints.read(c, binding);
        Checkpoints.State state;
        if (earlier.isPresent() && earlier.get().finished()) {
            state = earlier.get();
        } else {
            Long largest = GuardedRead.run(ctx.backend(), ctx.observer(), ctx.tableOid(), ctx.lockBudget(),
                    "reading the largest key of " + job.table(),
                    progress(earlier.map(Checkpoints.State::rowsDone).orElse(0L),
                            earlier.map(Checkpoints.State::batchesDone).orElse(0)),
                    g -> largestKey(g, job));
            // A resumed job covers the keys that exist when it resumes: rows inserted while it was
            // stopped would otherwise be skipped for good.
            state = earlier.isPresent() ? Checkpoints.extend(c, binding, earlier.get(), largest)
                    : Checkpoints.create(c, binding, largest);
        }
        if (state.finished()) {
            Log.info("job " + job.table() + " step " + (ctx.step() + 1) + " of operation " + ctx.operationId()
                    + " finished earlier: " + state.rowsDone() + " rows in " + state.batchesDone() + " batches; not run again");
            return new StepReport(job.sql(), null, 0, 0, 0, 0, false, state.rowsDone(), state.batchesDone());
        }
        if (state.lastKey() != null) {
            Log.info("resuming " + job.table() + " step " + (ctx.step() + 1) + " of operation " + ctx.operationId()
                    + " after key " + state.lastKey() + " (" + state.rowsDone() + " rows in " + state.batchesDone()
                    + " batches done)");
        }
        // No batch yet: the first starts at the smallest bigint inclusive, so no key is out of reach.
        Long lastKey = state.lastKey();
        Long endKey = state.endKey();
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
                if (Stopping.requested()) {
                    throw new Interrupted(rowsDone + " rows in " + batchesDone + " batches committed and their"
                            + " position kept", progress(rowsDone, batchesDone));
                }
                throttle.awaitClear(c, job.table().value());
                long limit = sizer.next();
                if (job.rowLimit() != null) {
                    limit = Math.min(limit, job.rowLimit() - rowsDone);
                }
                c.setAutoCommit(false);
                long batchStarted = System.nanoTime();
                long waitedBefore = watch.waitedNanosSoFar();
                long count = 0;
                Long rangeEnd = null;
                try {
                    if (limit > 0 && endKey != null && (lastKey == null || lastKey < endKey)) {
                        long from = lastKey == null ? Long.MIN_VALUE : lastKey;
                        try (PreparedStatement ps = c.prepareStatement(job.batchSql(lastKey == null))) {
                            ps.setLong(1, from);
                            ps.setLong(2, endKey);
                            ps.setLong(3, limit);
                            ps.setLong(4, from);
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
                        Checkpoints.advance(c, binding, rangeEnd, count);
                    } else {
                        Checkpoints.finish(c, binding);
                    }
                    c.commit();
                    // The sizer bounds how long a batch holds its row locks: a wait for the table lock
                    // before it held any is not that, and must not shrink the next batch.
                    long waited = watch.waitedNanosSoFar() - waitedBefore;
                    sizer.measured(count, Math.max(1, times.add(batchStarted) - waited));
                } catch (SQLException e) {
                    StepContext.rollbackQuietly(c);
                    if (PgErrors.lostLockRace(e)) {
                        throw new LockWaitTimedOut(PgErrors.firstLine(e) + " in batch " + (batchesDone + 1),
                                StepContext.millisSince(batchStarted), watch.blockersSoFar(),
                                progress(rowsDone, batchesDone));
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
                    throttledTooLong(job, e.throttledMs(), rowsDone, batchesDone), e);
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

    /** The 14 of a throttle that never cleared, in the order every 14 has its keys: table first, progress last. */
    private static Map<String, Object> throttledTooLong(Backfill job, long throttledMs, long rows, int batches) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("table", job.table().value());
        details.put("throttled_ms", throttledMs);
        details.putAll(progress(rows, batches));
        return details;
    }

    private static Map<String, Object> figures(BatchTimes times, Throttle throttle) {
        Map<String, Object> figures = new LinkedHashMap<>(times.asMap());
        figures.put("throttled_ms", throttle.throttledMs());
        return figures;
    }

    /** What a stopped job reports of itself: the rows and batches that stay committed. */
    private static Map<String, Object> progress(long rows, int batches) {
        Map<String, Object> progress = new LinkedHashMap<>();
        progress.put("total_rows", rows);
        progress.put("batches", batches);
        return progress;
    }

    /**
     * The column this backfill fills when the operation made it (add_column's safe path): its attnum
     * binds the checkpoint, so a column dropped and made again is filled from its first row.
     */
    private static Optional<Integer> filledColumn(Connection c, Backfill job, StepContext ctx) throws SQLException {
        for (MadeObject o : Ledger.leftovers(c, ctx.operationId())) {
            if (o.kind() == MadeObject.Kind.COLUMN && job.assignments().keySet().stream()
                    .anyMatch(col -> col.value().equals(o.name()))) {
                return Optional.of(o.attnum());
            }
        }
        return Optional.empty();
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
