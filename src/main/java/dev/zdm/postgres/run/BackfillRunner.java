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
import dev.zdm.pg.Backfill;
import dev.zdm.pg.LockMode;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs a {@link Backfill} as keyset batches along the integer primary key, over the keys that existed
 * when the job started: each batch finds the key range that holds the next {@code batchSize} matching
 * rows after the last key done, updates the matching rows of that range (an index range scan; UPDATE
 * re-checks the condition of a row changed meanwhile) and advances the job's checkpoint, all in one
 * short transaction under lock_timeout. The job ends when no key range is left or at its row limit.
 *
 * <p>An application transaction that wants a row a batch has updated waits for the batch's commit, so a
 * batch's statements run under a deadline (a transaction-local statement_timeout, see
 * {@link BatchSizer#deadline}), taken after the table lock so that a wait for the table keeps the lock
 * budget's meaning. A batch cancelled at its deadline is rolled back and retried at half the size; one
 * row that alone cannot be done within the budget is an error naming its key. A batch that loses a
 * deadlock or a serialization conflict to the application is run again after a pause ({@link ConflictRetry}).
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
        BatchSizer sizer = new BatchSizer(job.batchSize(), ctx.lockBudget(), ctx.throttling().batchTimeOrDefault());
        BatchTimes times = new BatchTimes();
        ConflictRetry conflicts = new ConflictRetry(() -> ThreadLocalRandom.current().nextDouble());
        boolean lockFirst = mayLockTable(c, ctx.tableOid());
        int deadlineRetries = 0;
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
                long waitedBefore = watch.waitedNanosSoFar();
                long count = 0;
                Long rangeEnd = null;
                Duration deadline = sizer.deadline(limit);
                long deadlineFrom = 0;
                long waitedAtDeadline = 0;
                try {
                    if (limit > 0 && endKey != null && (lastKey == null || lastKey < endKey)) {
                        long from = lastKey == null ? Long.MIN_VALUE : lastKey;
                        startDeadline(c, job, deadline, lockFirst);
                        deadlineFrom = System.nanoTime();
                        waitedAtDeadline = watch.waitedNanosSoFar();
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
                    conflicts.committed();
                } catch (SQLException e) {
                    long sinceDeadline = deadlineFrom == 0 ? 0 : System.nanoTime() - deadlineFrom;
                    StepContext.rollbackQuietly(c);
                    if (PgErrors.transactionConflict(e)) {
                        Optional<Duration> pause = conflicts.lost();
                        if (pause.isEmpty()) {
                            throw conflictsGaveUp(job, e, conflicts.inARow(), batchesDone, rowsDone);
                        }
                        Log.info(job.table() + ": batch " + (batchesDone + 1) + " lost to another transaction ("
                                + PgErrors.firstLine(e) + "); run again in " + pause.get().toMillis() + " ms");
                        Thread.sleep(Math.max(1, pause.get().toMillis()));
                        continue;
                    }
                    // Someone's pg_cancel_backend is not the deadline: it ends the job as any error does.
                    if (PgErrors.cancelled(e) && sinceDeadline >= deadline.toNanos()) {
                        if (limit > 1) {
                            sizer.cancelled(limit);
                            deadlineRetries++;
                            Log.info(job.table() + ": batch " + (batchesDone + 1) + " of " + limit + " rows cut at its "
                                    + deadline.toMillis() + " ms deadline, rolled back; run again with " + sizer.next());
                            continue;
                        }
                        if ((watch.waitedNanosSoFar() - waitedAtDeadline) * 2 >= sinceDeadline) {
                            // The one row waited for a lock nearly all that time: a lock held past the budget.
                            throw new LockWaitTimedOut("a row lock not granted within " + deadline.toMillis()
                                    + " ms in batch " + (batchesDone + 1), StepContext.millisSince(batchStarted),
                                    watch.blockersSoFar(), progress(rowsDone, batchesDone));
                        }
                        throw rowTooSlow(c, job, lastKey, endKey, deadline, e, rowsDone, batchesDone);
                    }
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
                batchesDone, figures(times, throttle, sizer, deadlineRetries, conflicts.retries()));
    }

    /**
     * Opens the batch's transaction: the table lock first, under lock_timeout alone (a wait for it holds
     * no row), then the deadline for the rest, transaction-local so that nothing outlives the batch on
     * the backend. One round trip for both.
     */
    private static void startDeadline(Connection c, Backfill job, Duration deadline, boolean lockFirst)
            throws SQLException {
        String timeout = "SET LOCAL statement_timeout = " + Math.max(1, deadline.toMillis());
        try (Statement s = c.createStatement()) {
            s.execute(lockFirst ? "LOCK TABLE " + job.table().quoted() + " IN ROW EXCLUSIVE MODE; " + timeout : timeout);
        }
    }

    /**
     * LOCK TABLE in ROW EXCLUSIVE mode needs a table-level INSERT, UPDATE, DELETE or TRUNCATE privilege; a
     * role granted UPDATE on some columns only can run the batch but not the LOCK: its batches wait for
     * the table under the deadline instead (cut and retried smaller, the last row under the whole budget).
     */
    private static boolean mayLockTable(Connection c, long tableOid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT has_table_privilege(?::oid, 'INSERT, UPDATE, DELETE, TRUNCATE')")) {
            ps.setLong(1, tableOid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Error 22 for one row that alone did not finish within its deadline (the whole lock budget): an
     * application touching it would wait longer than the budget. Names the row's key; what committed stays.
     */
    private static ZdmException rowTooSlow(Connection c, Backfill job, Long lastKey, Long endKey, Duration deadline,
                                           SQLException cause, long rows, int batches) {
        String key = nextKey(c, job, lastKey, endKey, deadline).map(k -> job.key() + " = " + k)
                .orElse(job.key() + (lastKey == null ? " first in order" : " after " + lastKey));
        return new ZdmException(ErrorCode.PRECONDITION_FAILED, "the row of " + job.table() + " with " + key
                + " alone takes longer than max_lock_duration_ms (" + deadline.toMillis() + " ms) to update, so an"
                + " application touching it would wait longer than that; nothing of it applied; " + rows + " rows in "
                + batches + " batches committed and kept (a cheaper set or where, or a larger budget, lets the same"
                + " request resume after them)", stopped(job, rows, batches), cause);
    }

    /** The key of the row a one-row batch takes, read under the same deadline; empty if that too is cut short. */
    private static Optional<String> nextKey(Connection c, Backfill job, Long lastKey, Long endKey, Duration deadline) {
        try {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL statement_timeout = " + Math.max(1, deadline.toMillis()));
            }
            try (PreparedStatement ps = c.prepareStatement(job.nextKeySql(lastKey == null))) {
                ps.setLong(1, lastKey == null ? Long.MIN_VALUE : lastKey);
                ps.setLong(2, endKey);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
                }
            }
        } catch (SQLException e) {
            Log.info("reading the key of the row too slow alone: " + PgErrors.firstLine(e));
            return Optional.empty();
        } finally {
            StepContext.rollbackQuietly(c);
            StepContext.autocommitQuietly(c);
        }
    }

    /** Error 14 for a batch that lost a deadlock (or serialization conflict) too often in a row: resumable. */
    private static ZdmException conflictsGaveUp(Backfill job, SQLException e, int losses, int batches, long rows) {
        String what = PgErrors.DEADLOCK_DETECTED.equals(e.getSQLState())
                ? "deadlocked with another transaction" : "lost a serialization conflict to another transaction";
        return new ZdmException(ErrorCode.ABORT, "batch " + (batches + 1) + " " + what + " " + losses
                + " times in a row (" + PgErrors.firstLine(e) + "), run again after a pause each time: something"
                + " takes the same rows in another order; rolled back; " + rows + " rows in " + batches
                + " batches committed and kept: the same request resumes after them", stopped(job, rows, batches), e);
    }

    /** What a stopped job's error carries, in the order every such error has its keys: table first, progress last. */
    private static Map<String, Object> stopped(Backfill job, long rows, int batches) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("table", job.table().value());
        details.putAll(progress(rows, batches));
        return details;
    }

    /** The 14 of a throttle that never cleared, in the order every 14 has its keys: table first, progress last. */
    private static Map<String, Object> throttledTooLong(Backfill job, long throttledMs, long rows, int batches) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("table", job.table().value());
        details.put("throttled_ms", throttledMs);
        details.putAll(progress(rows, batches));
        return details;
    }

    private static Map<String, Object> figures(BatchTimes times, Throttle throttle, BatchSizer sizer,
                                               int deadlineRetries, int conflictRetries) {
        Map<String, Object> figures = new LinkedHashMap<>(times.asMap());
        figures.put("throttled_ms", throttle.throttledMs());
        figures.put("batch_target_ms", sizer.target().toMillis());
        figures.put("deadline_retries", (long) deadlineRetries);
        figures.put("conflict_retries", (long) conflictRetries);
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
