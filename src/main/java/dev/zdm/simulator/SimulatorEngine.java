package dev.zdm.simulator;

import dev.zdm.Log;
import dev.zdm.config.Config;
import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Engine;
import dev.zdm.engine.Engines;
import dev.zdm.engine.InMemoryMigrations;
import dev.zdm.engine.Migrations;
import dev.zdm.engine.OperationStatus;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Operation;
import dev.zdm.engine.Outcome;
import dev.zdm.engine.Prediction;
import dev.zdm.pg.Backfill;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.Step;
import dev.zdm.pg.TableWork;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.schema.SchemaFile;
import java.sql.SQLException;
import java.util.ArrayList;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs plans against the model: the lock manager decides who waits for whom, the application
 * transactions decide how long, the cost model prices the work, and the simulated clock adds it up.
 * A step that would wait past the lock budget is cancelled at the budget and the plan's changes undone,
 * as the PostgreSQL engine's undo leaves them (a concurrent build's INVALID leftover excepted: the
 * server keeps it until it can be dropped). Nothing here grows with the number of requests run but
 * the catalog itself: rollback is an undo log of the plan, finished jobs a bounded memory.
 */
public final class SimulatorEngine implements Engine {

    /**
     * How many finished jobs are remembered, so that a repeated migrate_data answers its totals: the
     * newest ones. A node that runs a million requests must not keep a million checkpoints in memory.
     */
    static final int REMEMBERED_JOBS = 10_000;

    private final ServerVersion version;
    private final SimCatalog catalog;
    private final CostModel cost;
    private final RetryPolicy retries;
    private final SimClock clock = new SimClock();
    private final Sessions sessions;
    private final Leftovers leftovers = new Leftovers();
    private final Jobs jobs = new Jobs();
    private final ConcurrentIndexes concurrent;
    private final InMemoryMigrations migrations = new InMemoryMigrations();
    private final RunHistory history = new RunHistory();
    /** The request being run, while its plan runs. */
    private Operation current;
    /** The running request's budget while it is being planned; null otherwise. */
    private Duration planningBudget;
    /** The last plan's steps as the model timed them, for plan: true. */
    private final List<Prediction.StepTiming> stepTimings = new ArrayList<>();
    /** A batched step's lock is held one batch at a time: that batch's time, set by the step. */
    private Double heldPerBatch;

    public SimulatorEngine(ServerVersion version, SimCatalog catalog, CostModel cost, RetryPolicy retries) {
        this.version = version;
        this.catalog = catalog;
        this.cost = cost;
        this.retries = retries;
        this.sessions = new Sessions(catalog, clock, this::janitor);
        this.concurrent = new ConcurrentIndexes(catalog, clock, sessions, leftovers, retries, this::run, () -> current);
        catalog.onRowRead(this::planningRead);
    }

    /**
     * The simulator the command line asks for: an open world without a schema, else exactly the schema
     * of {@code --schema} or of the server {@code --schema-from} names (read-only).
     */
    public static SimulatorEngine open(Config config) throws Engines.StartFailed {
        RetryPolicy policy = RetryPolicy.of(config.retries());
        if (config.schemaFile() != null) {
            Schema schema;
            try {
                schema = SchemaFile.read(config.schemaFile());
            } catch (IllegalArgumentException e) {
                throw new Engines.StartFailed("--schema " + e.getMessage(), e);
            }
            ServerVersion v = !config.pgVersionGiven() && schema.serverVersion() != null
                    ? new ServerVersion(schema.serverVersion()) : config.pgVersion();
            return new SimulatorEngine(v, SimCatalog.of(schema, v), CostModel.DEFAULT, policy);
        }
        if (config.schemaFrom() != null) {
            Schema schema;
            try {
                schema = CatalogReader.read(config.schemaFrom(), Log::info);
            } catch (SQLException | IllegalArgumentException e) {
                throw new Engines.StartFailed("--schema-from: cannot read the schema: " + e.getMessage(), e);
            }
            Log.info("schema read from the server: " + schema.tables().size() + " tables, PostgreSQL "
                    + schema.serverVersion());
            ServerVersion v = new ServerVersion(schema.serverVersion());
            return new SimulatorEngine(v, SimCatalog.of(schema, v).askingConstantsOf(config.schemaFrom()), CostModel.DEFAULT,
                    policy);
        }
        return new SimulatorEngine(config.pgVersion(), SimCatalog.openWorld(config.simulatedRows(), config.pgVersion()),
                CostModel.DEFAULT, policy);
    }

    public static SimulatorEngine withUsersTable(ServerVersion version, long rows, int attempts) {
        return new SimulatorEngine(version, SimCatalog.withUsersTable(rows, version), CostModel.DEFAULT, RetryPolicy.of(attempts));
    }

    public static SimulatorEngine withUsersTable(ServerVersion version, long rows) {
        return withUsersTable(version, rows, Config.DEFAULT_RETRIES);
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

    /**
     * Plans under the budget, as the PostgreSQL engine does: a planning read of the table's rows (has
     * it any?) takes ACCESS SHARE, so it waits behind an ACCESS EXCLUSIVE holder and, past the budget,
     * answers 14 in the operation's shape.
     */
    @Override
    public Outcome run(Operation operation, Supplier<Plan> planner, Duration lockBudget) {
        sessions.endFinished();
        concurrent.settle(operation, lockBudget);
        Plan plan;
        planningBudget = lockBudget;
        try {
            plan = planner.get();
        } catch (LockTimeout t) {
            throw new LockBudgetExceeded(t.table.value(), t.waitedMs, t.blockedBy,
                    LockBudgetExceeded.progressOf(operation.type(), Map.of()));
        } finally {
            planningBudget = null;
        }
        current = operation;
        try {
            Outcome outcome = execute(plan, lockBudget);
            history.done(operation.type(), plan, outcome);
            return outcome;
        } catch (RuntimeException e) {
            history.failed(operation.type(), plan, e.getMessage());
            throw e;
        } finally {
            current = null;
        }
    }

    /** A planning read of the table's rows: ACCESS SHARE for one statement, within the request's budget. */
    private void planningRead(SqlName table) {
        if (planningBudget != null) {
            sessions.read(table, planningBudget);
        }
    }

    @Override
    public Outcome execute(Plan plan, Duration lockBudget) {
        sessions.endFinished();
        // A table the plan makes has no file before it; the open world must not assume it into being.
        long relfilenode = plan.createsTable() ? -1 : catalog.table(plan.table()).relfilenode();
        double start = clock.now();
        sessions.resetWaited();
        concurrent.resetAttempts();
        LockMode strongest = null;
        boolean tableLocked = false;
        long rows = 0;
        int batches = 0;
        catalog.begin();
        jobs.beginPlan();
        stepTimings.clear();
        Step failing = null;
        try {
            for (Step step : plan.steps()) {
                failing = step;
                double stepStart = clock.now();
                double waitedBefore = sessions.waitedSeconds();
                sessions.clearLastGrant();
                heldPerBatch = null;
                try {
                    if (step instanceof Backfill backfill) {
                        Jobs.Job job = jobs.job(jobId(backfill), backfill, catalog);
                        if (job.finishedBefore()) {
                            // Its checkpoint says it finished: the real engine reads the ledger, not the table.
                            rows += job.totals().rows();
                            batches += job.totals().batches();
                            continue;
                        }
                        // Where the keys end: one read of the table before the first batch.
                        sessions.read(step.table(), lockBudget);
                        if (!job.updates()) {
                            // No key at all, or no row wanted: no batch statement runs, so no ROW EXCLUSIVE.
                            // The checkpoint still says finished, so the same request again reads nothing.
                            jobs.finished(jobId(backfill), job.totals());
                            continue;
                        }
                        // A batch statement runs even when its key range holds no row: the UPDATE locks the table.
                        sessions.acquire(step.table(), step.lock(), lockBudget);
                        sessions.acquireOthers(step, lockBudget);
                        Jobs.JobTotals totals = run(backfill, job);
                        rows += totals.rows();
                        batches += totals.batches();
                    } else if (step.work() == TableWork.BUILD_INDEX_CONCURRENTLY) {
                        concurrent.build((Statement) step, lockBudget);
                    } else if (!((Statement) step).transactional()
                            && ((Statement) step).change() instanceof CatalogChange.DropIndex drop) {
                        concurrent.dropLeftover(step.table(), drop, lockBudget);
                    } else if (!((Statement) step).transactional()
                            && ((Statement) step).change() instanceof CatalogChange.RemoveIndex) {
                        concurrent.dropRequested((Statement) step, lockBudget);
                    } else {
                        if (isIndexBuild(step)) {
                            concurrent.countAttempt();
                        }
                        // A table being made is locked by its maker alone (no session sees it yet); IF NOT
                        // EXISTS of one there looks up its name and locks nothing.
                        if (!plan.createsTable()) {
                            sessions.acquire(step.table(), step.lock(), lockBudget);
                        }
                        catalog.checkBeforeChildren((Statement) step);
                        sessions.acquireOthers(step, lockBudget);
                        run((Statement) step);
                    }
                    strongest = strongest == null || step.lock().isStrongerThan(strongest) ? step.lock() : strongest;
                    // Every step commits on its own; its lock goes with the commit.
                    sessions.releaseMigration();
                    // The PostgreSQL engine's rule: a blocking lock held while rows were read or written, or
                    // a rewrite. A build on an empty table blocks writers only for an instant.
                    tableLocked |= step.locksTable() && (catalog.rowsReached(step.table(),
                            step instanceof Statement s ? s.otherLocks() : List.of()) > 0
                            || step.work().rewrites());
                } finally {
                    double held = heldPerBatch != null ? heldPerBatch
                            : Double.isNaN(sessions.lastGrant()) ? 0 : clock.now() - sessions.lastGrant();
                    stepTimings.add(new Prediction.StepTiming(CostModel.reported(clock.now() - stepStart),
                            CostModel.reported(sessions.waitedSeconds() - waitedBefore), CostModel.reported(held)));
                }
            }
        } catch (LockTimeout t) {
            rollback(plan.table());
            throw new LockBudgetExceeded(t.table.value(), t.waitedMs, t.blockedBy, progress(plan, failing, rows, batches));
        } catch (RuntimeException e) {
            rollback(plan.table());
            throw e;
        }
        catalog.commit();
        boolean rewritten = catalog.table(plan.table()).relfilenode() != relfilenode;
        // The same facts the PostgreSQL engine reads off pg_locks, here read off the model.
        Map<String, Object> seen = new LinkedHashMap<>();
        seen.put("strongest_lock", strongest == null ? "none" : strongest.sqlName());
        seen.put("lock_wait_ms", Math.round(sessions.waitedSeconds() * 1000));
        return new Outcome(CostModel.reported(clock.now() - start), tableLocked, rewritten, rows, batches, seen);
    }

    private void rollback(SqlName table) {
        sessions.releaseMigration();
        catalog.rollback(table);
        jobs.rollback();
    }

    /**
     * What an error 14 says the operation got done, the same keys as the PostgreSQL engine: a
     * create_index its build attempts, a migrate_data the rows and batches committed (none here: the
     * model's batches need no lock the application can hold against them once the first is granted).
     */
    private Map<String, Object> progress(Plan plan, Step failing, long rowsDone, int batchesDone) {
        if (failing instanceof Statement s && (s.change() instanceof CatalogChange.CreateIndexOnOnly
                || s.change() instanceof CatalogChange.AttachIndex)) {
            // A partitioned build's catalog step: no build of its own, so none attempted (the engine's count is the step's).
            return Map.of("attempts", 0);
        }
        if (failing instanceof Statement s && s.transactional() && !(s.change() instanceof CatalogChange.CreateIndex)) {
            // A statement of its own transaction (a key's USING INDEX after its build): no build attempts to tell.
            return Map.of();
        }
        if (plan.steps().stream().anyMatch(SimulatorEngine::isIndexBuild)) {
            return Map.of("attempts", concurrent.attempts());
        }
        if (plan.steps().stream().anyMatch(s -> s instanceof Statement st && !st.transactional()
                && st.change() instanceof CatalogChange.RemoveIndex)) {
            // The engine runs it as any statement outside a transaction block: in attempts.
            return Map.of("attempts", concurrent.attempts());
        }
        if (plan.steps().stream().allMatch(s -> s instanceof Backfill)) {
            // The jobs that finished before the one that lost (the partitions before it) stay committed.
            Map<String, Object> progress = new LinkedHashMap<>();
            progress.put("total_rows", rowsDone);
            progress.put("batches", batchesDone);
            return progress;
        }
        return Map.of();
    }

    private static boolean isIndexBuild(Step step) {
        return step instanceof Statement s && s.change() instanceof CatalogChange.CreateIndex;
    }

    @Override
    public List<String> assumptions(Plan plan) {
        return Assumptions.of(plan, catalog);
    }

    /** A statement on the model: its time on the clock, its change to the catalog. */
    private void run(Statement statement) {
        SqlName table = statement.table();
        if (statement.change() instanceof CatalogChange.CreateTable) {
            catalog.apply(table, statement.change());
            clock.advance(cost.statement(statement.work(), 0));
            return;
        }
        clock.advance(cost.statement(statement.work(), catalog.table(table).rows()));
        StatementEffects.apply(catalog, version, statement);
    }

    /**
     * A job is its operation's, as the real engine's checkpoint belongs to its ledger row: the same
     * backfill in another migration (or at another place in one) is another job, which runs.
     */
    private String jobId(Backfill backfill) {
        return (current == null ? "" : current.identity()) + "\n" + backfill.jobKey();
    }

    private Jobs.JobTotals run(Backfill backfill, Jobs.Job job) {
        Jobs.JobTotals totals = job.totals();
        heldPerBatch = totals.batches() == 0 ? 0 : cost.batches(Math.min(backfill.batchSize(), totals.rows()), 1, 0);
        catalog.assumeColumns(backfill.table(), backfill.assignments().keySet());
        clock.advance(cost.batches(totals.rows(), totals.batches(), backfill.sleepMs()));
        if (totals.rows() == catalog.table(backfill.table()).rows()) {
            catalog.filled(backfill.table(), backfill.assignments().keySet());
        }
        jobs.finished(jobId(backfill), totals);
        return totals;
    }

    /**
     * plan: true on a copy of this engine (catalog, clock, application sessions and their locks, finished
     * jobs, leftovers): the copy runs the operation as a request would, and this engine is left as it was.
     */
    @Override
    public Prediction predict(Operation operation, Function<Planner, Plan> planner, Duration lockBudget) {
        return copy().predictHere(operation, planner, lockBudget, "simulator");
    }

    /** Runs the operation here and answers it as a prediction: for an engine that is thrown away after. */
    public Prediction predictHere(Operation operation, Function<Planner, Plan> planner, Duration lockBudget,
                                  String predictedBy) {
        Plan[] plan = new Plan[1];
        Outcome outcome = run(operation, () -> plan[0] = planner.apply(new Planner(version, catalog)), lockBudget);
        return new Prediction(plan[0], outcome, stepTimings, assumptions(plan[0]), predictedBy);
    }

    private SimulatorEngine copy() {
        SimulatorEngine copy = new SimulatorEngine(version, catalog.copy(), cost, retries);
        copy.clock.advanceTo(clock.now());
        sessions.copyInto(copy.sessions);
        jobs.copyInto(copy.jobs);
        leftovers.copyInto(copy.leftovers);
        return copy;
    }

    @Override
    public Migrations migrations() {
        return migrations;
    }

    @Override
    public List<OperationStatus> operations(int limit) {
        return history.list(limit);
    }

    @Override
    public Map<String, Long> operationCounts() {
        return new java.util.TreeMap<>(history.counts());
    }

    @Override
    public void openTransaction(AppTransaction spec) {
        sessions.open(spec);
    }

    @Override
    public void closeTransaction(String session) {
        sessions.close(session);
    }

    /** The janitor's turn, after a transaction ended. */
    private void janitor() {
        leftovers.drop(sessions, catalog);
    }

    @Override
    public void close() {
        // Nothing outlives the process.
    }
}
