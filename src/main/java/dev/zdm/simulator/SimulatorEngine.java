package dev.zdm.simulator;

import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Blocker;
import dev.zdm.engine.Engine;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Outcome;
import dev.zdm.pg.Backfill;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.Step;
import dev.zdm.pg.TableWork;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs plans against the model: the lock manager decides who waits for whom, the application
 * transactions decide how long, the cost model prices the work, and the simulated clock adds it up.
 * A step that would wait past the lock budget is cancelled at the budget and the catalog restored to
 * what it was before the plan, as the PostgreSQL engine's undo leaves it.
 */
public final class SimulatorEngine implements Engine {

    /** The lock holder that stands for the migration's own backend. */
    static final String MIGRATION = "zdm";

    /** {@code pid}: modelled, one per session in the order they opened, as a server hands them out. */
    private record AppSession(AppTransaction spec, int pid, double openedAt, double endsAt) {

        Blocker asBlocker(double now) {
            // What pg_stat_activity shows of a session zdm opened: its name, idle inside its transaction.
            return new Blocker(spec.session(), pid, "zdm-session:" + spec.session(), "idle in transaction",
                    Math.round((now - openedAt) * 1000));
        }
    }

    /** The first modelled backend pid; any positive number would do, real pids are never this small. */
    private static final int FIRST_PID = 10_000;

    private record JobTotals(long rows, int batches) {
    }

    private final ServerVersion version;
    private final SimCatalog catalog;
    private final CostModel cost;
    private final RetryPolicy retries;
    private final SimClock clock = new SimClock();
    private final LockManager locks = new LockManager();
    private final Map<String, AppSession> sessions = new LinkedHashMap<>();
    private final Map<String, JobTotals> finishedJobs = new HashMap<>();
    private double waitedSeconds;
    private int nextPid = FIRST_PID;

    public SimulatorEngine(ServerVersion version, SimCatalog catalog, CostModel cost, RetryPolicy retries) {
        this.version = version;
        this.catalog = catalog;
        this.cost = cost;
        this.retries = retries;
    }

    public static SimulatorEngine withUsersTable(ServerVersion version, long rows, int attempts) {
        return new SimulatorEngine(version, SimCatalog.withUsersTable(rows), CostModel.DEFAULT, RetryPolicy.of(attempts));
    }

    public static SimulatorEngine withUsersTable(ServerVersion version, long rows) {
        return withUsersTable(version, rows, dev.zdm.config.Config.DEFAULT_RETRIES);
    }

    @Override
    public String name() {
        return "simulator";
    }

    @Override
    public ServerVersion version() {
        return version;
    }

    @Override
    public CatalogView catalog() {
        return catalog;
    }

    /** The model's catalog, for tests and the fidelity comparison. */
    public SimCatalog model() {
        return catalog;
    }

    public double now() {
        return clock.now();
    }

    @Override
    public Outcome execute(Plan plan, Duration lockBudget) {
        endFinishedTransactions();
        SimCatalog before = catalog.copy();
        Map<String, JobTotals> jobsBefore = new HashMap<>(finishedJobs);
        long relfilenode = catalog.table(plan.table()).relfilenode();
        double start = clock.now();
        waitedSeconds = 0;
        LockMode strongest = null;
        boolean tableLocked = false;
        long rows = 0;
        int batches = 0;
        try {
            for (Step step : plan.steps()) {
                if (step.work() == TableWork.BUILD_INDEX_CONCURRENTLY) {
                    buildConcurrently((Statement) step, lockBudget);
                } else if (step instanceof Statement statement) {
                    acquire(step.table(), step.lock(), lockBudget);
                    run(statement);
                } else {
                    acquire(step.table(), step.lock(), lockBudget);
                    JobTotals totals = backfill((Backfill) step);
                    rows += totals.rows();
                    batches += totals.batches();
                }
                strongest = strongest == null || step.lock().isStrongerThan(strongest) ? step.lock() : strongest;
                // Every step commits on its own; its lock goes with the commit.
                locks.releaseAll(MIGRATION);
                tableLocked |= step.locksTable();
            }
        } catch (ZdmException e) {
            locks.releaseAll(MIGRATION);
            catalog.restore(before);
            // A backfill the rollback undid (its column dropped with the plan) is not a finished job.
            finishedJobs.clear();
            finishedJobs.putAll(jobsBefore);
            throw e;
        }
        boolean rewritten = catalog.table(plan.table()).relfilenode() != relfilenode;
        // The same facts the PostgreSQL engine reads off pg_locks, here read off the model.
        Map<String, Object> seen = new LinkedHashMap<>();
        seen.put("strongest_lock", strongest.sqlName());
        seen.put("lock_wait_ms", Math.round(waitedSeconds * 1000));
        return new Outcome(CostModel.reported(clock.now() - start), tableLocked, rewritten, rows, batches, seen);
    }

    private void run(Statement statement) {
        SqlName table = statement.table();
        clock.advance(cost.statement(statement.work(), catalog.table(table).rows()));
        if (statement.work().rewrites()) {
            catalog.rewrite(table);
        }
        catalog.apply(table, statement.change());
    }

    /**
     * CIC takes SHARE UPDATE EXCLUSIVE, commits an INVALID index, then waits for every transaction
     * holding a lock that conflicts with SHARE (the writers) before its heap passes; lock_timeout bounds
     * each wait. A lost race leaves the INVALID index, which DROP INDEX CONCURRENTLY removes once no
     * transaction holds any lock on the table; only then is the build tried again, after a backoff.
     */
    private void buildConcurrently(Statement statement, Duration lockBudget) {
        SqlName table = statement.table();
        CatalogChange.CreateIndex index = (CatalogChange.CreateIndex) statement.change();
        for (int attempt = 1; ; attempt++) {
            try {
                acquire(table, statement.lock(), lockBudget);
                catalog.addInvalidIndex(table, index);
                waitFor(table, locks.holdersConflictingWith(table, LockMode.SHARE, MIGRATION), lockBudget, () -> { });
                run(statement);
                return;
            } catch (LockBudgetExceeded lost) {
                locks.releaseAll(MIGRATION);
                boolean dropped = catalog.index(index.index()).isEmpty() || dropInvalid(table, index, lockBudget);
                if (!dropped || attempt >= retries.attempts()) {
                    throw lost;
                }
                clock.advance(retries.backoffMs(attempt) / 1000.0);
            }
        }
    }

    /** DROP INDEX CONCURRENTLY waits, within the budget, for every transaction holding a lock on the table. */
    private boolean dropInvalid(SqlName table, CatalogChange.CreateIndex index, Duration lockBudget) {
        try {
            waitFor(table, locks.holdersConflictingWith(table, LockMode.ACCESS_EXCLUSIVE, MIGRATION), lockBudget, () -> { });
        } catch (LockBudgetExceeded stillThere) {
            return false;
        }
        catalog.apply(table, new CatalogChange.DropIndex(index.index()));
        return true;
    }

    private JobTotals backfill(Backfill backfill) {
        JobTotals done = finishedJobs.get(backfill.jobKey());
        if (done != null) {
            // The job's checkpoint says it finished: a repeated request answers its totals, redoes nothing.
            return done;
        }
        long tableRows = catalog.table(backfill.table()).rows();
        long rows = backfill.rowLimit() == null ? tableRows : Math.min(backfill.rowLimit(), tableRows);
        int batches = (int) ((rows + backfill.batchSize() - 1) / backfill.batchSize());
        clock.advance(cost.batches(rows, batches, backfill.sleepMs()));
        if (rows == tableRows) {
            catalog.filled(backfill.table(), backfill.assignments().keySet());
        }
        JobTotals totals = new JobTotals(rows, batches);
        finishedJobs.put(backfill.jobKey(), totals);
        return totals;
    }

    private void acquire(SqlName table, LockMode mode, Duration lockBudget) {
        if (locks.request(MIGRATION, table, mode) == LockManager.Result.GRANTED) {
            return;
        }
        waitFor(table, locks.blockers(MIGRATION, table), lockBudget, () -> locks.cancelWaiting(MIGRATION, table));
        if (locks.isWaiting(MIGRATION, table)) {
            throw new IllegalStateException("the migration's lock on " + table + " was not granted after its blockers ended");
        }
    }

    /**
     * Lets the simulated clock run until every blocker's transaction has ended, or until the budget is
     * spent: then {@code cancel} withdraws the request and the plan aborts.
     */
    private void waitFor(SqlName table, List<String> blockers, Duration lockBudget, Runnable cancel) {
        if (blockers.isEmpty()) {
            return;
        }
        double budget = lockBudget.toMillis() / 1000.0;
        double until = blockers.stream().mapToDouble(s -> sessions.get(s).endsAt()).max().orElseThrow();
        if (until - clock.now() > budget) {
            // Who blocked, as pg_stat_activity would show them when the budget runs out.
            double abortAt = clock.now() + budget;
            List<Blocker> blockedBy = blockers.stream().map(b -> sessions.get(b).asBlocker(abortAt)).toList();
            waitedSeconds += budget;
            clock.advance(budget);
            cancel.run();
            endFinishedTransactions();
            throw new LockBudgetExceeded(table.value(), lockBudget.toMillis(), blockedBy, Map.of());
        }
        waitedSeconds += Math.max(0, until - clock.now());
        clock.advanceTo(until);
        endFinishedTransactions();
    }

    @Override
    public void openTransaction(AppTransaction spec) {
        endFinishedTransactions();
        if (sessions.containsKey(spec.session())) {
            throw ZdmException.exists("session " + spec.session());
        }
        catalog.table(spec.table());
        if (spec.mode() != null && locks.request(spec.session(), spec.table(), spec.mode()) == LockManager.Result.WAITING) {
            List<String> blockers = locks.blockers(spec.session(), spec.table());
            locks.cancelWaiting(spec.session(), spec.table());
            throw new ZdmException(ErrorCode.ABORT, spec.mode() + " on " + spec.table()
                    + " is not free (held by " + String.join(", ", blockers) + "); the transaction was not opened");
        }
        double endsAt = spec.durationSeconds() == null ? Double.POSITIVE_INFINITY : clock.now() + spec.durationSeconds();
        sessions.put(spec.session(), new AppSession(spec, nextPid++, clock.now(), endsAt));
    }

    @Override
    public void closeTransaction(String session) {
        endFinishedTransactions();
        if (sessions.remove(session) == null) {
            throw ZdmException.missing("session " + session);
        }
        locks.releaseAll(session);
    }

    private void endFinishedTransactions() {
        sessions.values().removeIf(s -> {
            if (s.endsAt() <= clock.now()) {
                locks.releaseAll(s.spec().session());
                return true;
            }
            return false;
        });
    }

    @Override
    public void close() {
        // Nothing outlives the process.
    }
}
