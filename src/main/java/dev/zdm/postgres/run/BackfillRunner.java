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
import dev.zdm.pg.KeyPosition;
import dev.zdm.pg.KeyWalk;
import dev.zdm.pg.LockMode;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs a {@link Backfill} as batches along its {@link KeyWalk}, over the keys that existed when the job
 * started: each batch finds the key range that holds the next {@code batchSize} matching rows after the
 * last key done (or, walking blocks, the next block range), updates the matching rows of that range (an index range scan; UPDATE
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
    /**
     * Passes of a walk by blocks at most: a second pass finds what the application moved behind the
     * first; a default that can be NULL would otherwise go round for ever (then NOT NULL fails, as it
     * would for the plain ALTER).
     */
    static final int MAX_PASSES = 5;
    /**
     * One-row batches in a row, each over its batch time, after which the job stops. Every batch costs
     * its own key range only (an index range scan), so a batch the sizer has shrunk to one row that still
     * overruns costs that much whatever its size: a slow row, a trigger or foreign key check per
     * statement, rows the application keeps locked, or the round trips to a distant server. Going on at
     * one row per batch would look alive and never finish (the report that found the per-batch table
     * scan saw "next batch 1 rows" for ~4 days of work); running larger batches instead would break the
     * batch time the request set. So the job stops, resumable, with the figures to choose a larger
     * batch_time_ms or a cheaper set. Fifty: a stray slow stretch (a checkpoint, autovacuum, one hot row)
     * passes well within it.
     */
    public static final int MAX_SLOW_SINGLE_ROWS = 50;

    private BackfillRunner() {
    }

    public static StepReport run(Backfill job, StepContext ctx) throws LockWaitTimedOut, SQLException {
        Connection c = ctx.backend().connection();
        KeyWalk walk = job.walk();
        boolean integerKey = walk instanceof KeyWalk.Keyset k && k.integerKey();
        Checkpoints.Binding binding = new Checkpoints.Binding(ctx.operationId(), ctx.step(), ctx.tableOid(),
                filledColumn(c, job, ctx).orElse(null));
        Optional<Checkpoints.State> earlier = Checkpoints.read(c, binding);
        // A finished job answers its totals whatever its table's key has become since.
        if (earlier.isPresent() && !earlier.get().finished() && !sameWalk(earlier.get(), walk, integerKey)) {
            if (!job.fillsNulls()) {
                throw ZdmException.precondition("this job's checkpoint is along " + describe(earlier.get().walk())
                        + ", and " + job.table() + " is now walked along " + walk.describe() + ": its "
                        + earlier.get().rowsDone() + " rows done cannot be found again, so resuming could update"
                        + " a row twice; restore that key, or check the rows and send a changed request");
            }
            // Filling NULLs twice is harmless: the job starts again along the new walk.
            earlier = Optional.empty();
        }
        Checkpoints.State state;
        if (earlier.isPresent() && earlier.get().finished()) {
            state = earlier.get();
        } else {
            KeyPosition previousEnd = earlier.map(Checkpoints.State::endKey).orElse(null);
            End largest = GuardedRead.run(ctx.backend(), ctx.observer(), ctx.tableOid(), ctx.lockBudget(),
                    "reading where the keys of " + job.table() + " end",
                    progress(earlier.map(Checkpoints.State::rowsDone).orElse(0L),
                            earlier.map(Checkpoints.State::batchesDone).orElse(0)),
                    g -> end(g, job, previousEnd));
            // A resumed job covers the keys that exist when it resumes: rows inserted while it was
            // stopped would otherwise be skipped for good.
            if (earlier.isEmpty()) {
                state = Checkpoints.create(c, binding, walk.describe(), largest.position(), integerKey);
            } else if (largest.position() != null && (previousEnd == null || largest.further())) {
                state = Checkpoints.extend(c, binding, earlier.get(), largest.position(), integerKey, false);
            } else {
                state = earlier.get();
            }
        }
        if (state.finished()) {
            Log.info("job " + job.table() + " step " + (ctx.step() + 1) + " of operation " + ctx.operationId()
                    + " finished earlier: " + state.rowsDone() + " rows in " + state.batchesDone() + " batches; not run again");
            return new StepReport(job.sql(), null, 0, 0, 0, 0, false, state.rowsDone(), state.batchesDone());
        }
        if (state.lastKey() != null) {
            Log.info("resuming " + job.table() + " step " + (ctx.step() + 1) + " of operation " + ctx.operationId()
                    + " after " + walk.describe() + " " + state.lastKey() + " (" + state.rowsDone() + " rows in "
                    + state.batchesDone() + " batches done)");
        }
        // No batch yet: the first has no lower bound, so no key is out of reach.
        KeyPosition lastKey = state.lastKey();
        KeyPosition endKey = state.endKey();
        long rowsDone = state.rowsDone();
        int batchesDone = state.batchesDone();
        // A walk by blocks repeats while a pass filled rows (the application may have moved a NULL behind it).
        long rowsThisPass = lastKey == null ? 0 : 1;
        int passes = 1;
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
        List<String> otherLocks = OtherTableLocks.statements(c, ctx.tableOid(), job.otherLocks());
        int deadlineRetries = 0;
        int slowSingleRows = 0;
        long lastTook = 0;
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
                long work = 0;
                KeyPosition rangeEnd = null;
                Duration deadline = sizer.deadline(limit);
                long deadlineFrom = 0;
                long waitedAtDeadline = 0;
                try {
                    boolean due = limit > 0 && endKey != null;
                    KeyWalk.Bound find = due ? walk.range(job, lastKey, endKey, limit) : null;
                    KeyWalk.Bound batch = due && find == null ? walk.batch(job, lastKey, endKey, limit, null) : null;
                    if (find != null || batch != null) {
                        startDeadline(c, job, deadline, lockFirst, otherLocks);
                        deadlineFrom = System.nanoTime();
                        waitedAtDeadline = watch.waitedNanosSoFar();
                        if (find != null) {
                            // Its own statement, so that the UPDATE gets the range's end as a parameter.
                            batch = walk.batch(job, lastKey, endKey, limit, found(c, find));
                        }
                        try (PreparedStatement ps = c.prepareStatement(batch.sql())) {
                            bind(ps, batch);
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                count = rs.getLong(1);
                                rangeEnd = position(rs, 2, rs.getMetaData().getColumnCount() - 1);
                            }
                        }
                        work = walk.work(batch, count);
                        if (strongest == null) {
                            // Every batch takes the same lock; reading it once spares a round trip per batch.
                            strongest = TableProbe.heldLock(c, ctx.tableOid());
                        }
                    }
                    if (rangeEnd != null) {
                        Checkpoints.advance(c, binding, rangeEnd, count, integerKey);
                    } else if (!anotherPass(walk, rowsThisPass, passes)) {
                        Checkpoints.finish(c, binding);
                    }
                    c.commit();
                    // The sizer bounds how long a batch holds its row locks: a wait for the table lock
                    // before it held any is not that, and must not shrink the next batch.
                    long waited = watch.waitedNanosSoFar() - waitedBefore;
                    long took = Math.max(1, times.add(batchStarted) - waited);
                    sizer.measured(work, took);
                    lastTook = took;
                    conflicts.committed();
                    slowSingleRows = limit == 1 && count > 0 && job.batchSize() > 1 && took > sizer.target().toNanos()
                            ? slowSingleRows + 1 : 0;
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
                    if (dev.zdm.postgres.connect.StopCancel.causedBy(e)) {
                        throw new Interrupted(rowsDone + " rows in " + batchesDone + " batches committed and their"
                                + " position kept; the running batch was cancelled and rolled back",
                                progress(rowsDone, batchesDone));
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
                                    watch.blockersSoFar(), progress(rowsDone, batchesDone), watch.waitedOnSoFar());
                        }
                        throw rowTooSlow(c, job, walk, lastKey, endKey, deadline, e, rowsDone, batchesDone);
                    }
                    if (PgErrors.lostLockRace(e)) {
                        throw new LockWaitTimedOut(PgErrors.firstLine(e) + " in batch " + (batchesDone + 1),
                                StepContext.millisSince(batchStarted), watch.blockersSoFar(),
                                progress(rowsDone, batchesDone), watch.waitedOnSoFar());
                    }
                    throw e;
                } finally {
                    StepContext.autocommitQuietly(c);
                }
                if (rangeEnd == null) {
                    if (!anotherPass(walk, rowsThisPass, passes)) {
                        break;
                    }
                    // The table's blocks now, from the first again.
                    End now = GuardedRead.run(ctx.backend(), ctx.observer(), ctx.tableOid(), ctx.lockBudget(),
                            "reading the size of " + job.table(), progress(rowsDone, batchesDone), g -> end(g, job, null));
                    state = Checkpoints.extend(c, binding, state, now.position(), integerKey, true);
                    lastKey = null;
                    endKey = now.position();
                    rowsThisPass = 0;
                    passes++;
                    continue;
                }
                lastKey = rangeEnd;
                rowsDone += count;
                rowsThisRun += count;
                rowsThisPass += count;
                batchesDone++;
                if (slowSingleRows >= MAX_SLOW_SINGLE_ROWS) {
                    throw singleRowsTooSlow(job, slowSingleRows, sizer.target(), lastTook, rowsDone, batchesDone);
                }
                if (StepContext.millisSince(lastProgress) >= PROGRESS_EVERY_MS) {
                    lastProgress = System.nanoTime();
                    Log.info(job.table() + ": " + rowsDone + " rows in " + batchesDone + " batches, last "
                            + walk.describe() + " " + lastKey + ", next batch " + sizer.next() + " rows, throttled_ms "
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
    private static void startDeadline(Connection c, Backfill job, Duration deadline, boolean lockFirst,
                                      List<String> otherLocks) throws SQLException {
        StringBuilder sql = new StringBuilder();
        if (lockFirst) {
            // LOCK TABLE reaches the children as UPDATE does; ONLY where the job is of the table's own rows.
            sql.append("LOCK TABLE ").append(job.target()).append(" IN ROW EXCLUSIVE MODE; ");
        }
        // After the table's own, in the order the UPDATE and then its foreign keys' triggers take them.
        otherLocks.forEach(lock -> sql.append(lock).append("; "));
        sql.append("SET LOCAL statement_timeout = ").append(Math.max(1, deadline.toMillis()));
        try (Statement s = c.createStatement()) {
            s.execute(sql.toString());
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
    private static ZdmException rowTooSlow(Connection c, Backfill job, KeyWalk walk, KeyPosition lastKey,
                                           KeyPosition endKey, Duration deadline, SQLException cause, long rows, int batches) {
        String key = nextKey(c, job, walk, lastKey, endKey, deadline)
                .orElse(walk.describe() + (lastKey == null ? " first in order" : " after " + lastKey));
        return new ZdmException(ErrorCode.PRECONDITION_FAILED, "the row of " + job.table() + " with " + key
                + " alone takes longer than max_lock_duration_ms (" + deadline.toMillis() + " ms) to update, so an"
                + " application touching it would wait longer than that; nothing of it applied; " + rows + " rows in "
                + batches + " batches committed and kept (a cheaper set or where, or a larger budget, lets the same"
                + " request resume after them)", stopped(job, rows, batches), cause);
    }

    /**
     * The key of the row a one-row batch takes ("id = 777", "("a", "b") = (1, x)"), read under the same
     * deadline; empty for a walk by blocks, or if that read too is cut short.
     */
    private static Optional<String> nextKey(Connection c, Backfill job, KeyWalk walk, KeyPosition lastKey,
                                            KeyPosition endKey, Duration deadline) {
        KeyWalk.Bound first = walk.firstRow(job, lastKey, endKey);
        if (first == null || !(walk instanceof KeyWalk.Keyset keyset)) {
            return Optional.empty();
        }
        try {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL statement_timeout = " + Math.max(1, deadline.toMillis()));
            }
            try (PreparedStatement ps = c.prepareStatement(first.sql())) {
                bind(ps, first);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    KeyPosition key = position(rs, 1, rs.getMetaData().getColumnCount());
                    String values = key.values().size() == 1 ? key.values().get(0)
                            : "(" + String.join(", ", key.values()) + ")";
                    return Optional.of(keyset.columnsText().replace("\"", "") + " = " + values);
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

    /** Error 22 for a job whose batches, shrunk to one row each, keep overrunning their time: see {@link #MAX_SLOW_SINGLE_ROWS}. */
    private static ZdmException singleRowsTooSlow(Backfill job, int batches, Duration target, long lastNanos,
                                                  long rows, int batchesDone) {
        return new ZdmException(ErrorCode.PRECONDITION_FAILED, "the last " + batches + " batches of " + job.table()
                + " took one row each and each took longer than its batch time (" + target.toMillis() + " ms; the last took "
                + Duration.ofNanos(lastNanos).toMillis() + " ms): a batch costs that much whatever its size (a slow set expression, a trigger or"
                + " foreign key check, rows the application keeps locked, or the round trips to the server), so the"
                + " job would go on at one row per batch; stopped; " + rows + " rows in " + batchesDone
                + " batches committed and kept (a larger batch_time_ms or max_lock_duration_ms, or a cheaper set,"
                + " lets the same request resume after them)", stopped(job, rows, batchesDone), null);
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

    /** Where the walk ends now (null: nothing to walk), and whether that lies beyond the end asked about. */
    private record End(KeyPosition position, boolean further) {
    }

    private static End end(Connection c, Backfill job, KeyPosition previousEnd) throws SQLException {
        KeyWalk.Bound read = job.walk().end(job, previousEnd);
        try (PreparedStatement ps = c.prepareStatement(read.sql())) {
            bind(ps, read);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new End(null, false);
                }
                int values = rs.getMetaData().getColumnCount() - (previousEnd == null ? 0 : 1);
                return new End(position(rs, 1, values), previousEnd != null && rs.getBoolean(values + 1));
            }
        }
    }

    /**
     * Every value as text, read by the cast in the statement as the key column's type (Types.OTHER
     * sends it untyped: a parameter without a cast takes the column's type); a Long is a row count.
     */
    private static void bind(PreparedStatement ps, KeyWalk.Bound bound) throws SQLException {
        for (int i = 0; i < bound.params().size(); i++) {
            Object value = bound.params().get(i);
            if (value instanceof Long n) {
                ps.setLong(i + 1, n);
            } else {
                ps.setObject(i + 1, value, Types.OTHER);
            }
        }
    }

    /** The row a walk's range statement found, its values as text; null when it found none. */
    private static List<String> found(Connection c, KeyWalk.Bound find) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(find.sql())) {
            bind(ps, find);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                List<String> values = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    values.add(rs.getString(i));
                }
                return values;
            }
        }
    }

    /** {@code count} text columns from {@code first} on; null when the first is NULL (nothing was left). */
    private static KeyPosition position(ResultSet rs, int first, int count) throws SQLException {
        if (rs.getString(first) == null) {
            return null;
        }
        List<String> values = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            values.add(rs.getString(first + i));
        }
        return new KeyPosition(values);
    }

    /** A walk by blocks goes round again after a pass that filled rows, a bounded number of times. */
    private static boolean anotherPass(KeyWalk walk, long rowsThisPass, int passes) {
        return walk instanceof KeyWalk.Blocks && rowsThisPass > 0 && passes < MAX_PASSES;
    }

    /** A checkpoint of an older zdm (no walk named) is along the single integer primary key. */
    private static boolean sameWalk(Checkpoints.State state, KeyWalk walk, boolean integerKey) {
        return state.walk() == null ? integerKey : state.walk().equals(walk.describe());
    }

    private static String describe(String walk) {
        return walk == null ? "the integer primary key" : walk;
    }
}
