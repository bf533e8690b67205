package dev.zdm.simulator;

import dev.zdm.Log;
import dev.zdm.config.Config;
import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Blocker;
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
import dev.zdm.pg.ConstraintInfo;
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
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
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

    /** A lock wait that ran past the budget, before the plan knows what to report of itself. */
    private static final class Timeout extends RuntimeException {
        final SqlName table;
        final long waitedMs;
        final List<Blocker> blockedBy;

        Timeout(SqlName table, long waitedMs, List<Blocker> blockedBy) {
            super(null, null, false, false);
            this.table = table;
            this.waitedMs = waitedMs;
            this.blockedBy = blockedBy;
        }
    }

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
    private final LockManager locks;
    private final Map<String, AppSession> sessions = new LinkedHashMap<>();
    private final Map<String, JobTotals> finishedJobs = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, JobTotals> eldest) {
            return size() > REMEMBERED_JOBS;
        }
    };
    /** Jobs the running plan finished: forgotten again if the plan is rolled back. */
    private final List<String> jobsOfThisPlan = new ArrayList<>();
    /** INVALID leftovers the janitor drops once no transaction holds a lock on their table. */
    private final Map<SqlName, SqlName> leftovers = new LinkedHashMap<>();
    /** The leftover each failed operation owes, by the operation's identity: its ledger's undo_pending. */
    private final Map<String, SqlName> pendingUndo = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, SqlName> eldest) {
            return size() > REMEMBERED_JOBS;
        }
    };
    private final InMemoryMigrations migrations = new InMemoryMigrations();
    private final RunHistory history = new RunHistory();
    /** The request being run, while its plan runs. */
    private Operation current;
    private double waitedSeconds;
    private int attempts;
    /** The running request's budget while it is being planned; null otherwise. */
    private Duration planningBudget;
    private int nextPid = FIRST_PID;
    /** The last plan's steps as the model timed them, for plan: true. */
    private final List<Prediction.StepTiming> stepTimings = new ArrayList<>();
    /** When the migration's latest lock was granted, in the step being run. */
    private double lastGrant;
    /** A batched step's lock is held one batch at a time: that batch's time, set by the step. */
    private Double heldPerBatch;

    public SimulatorEngine(ServerVersion version, SimCatalog catalog, CostModel cost, RetryPolicy retries) {
        this.version = version;
        this.catalog = catalog;
        this.locks = new LockManager(catalog::key);
        this.cost = cost;
        this.retries = retries;
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
        endFinishedTransactions();
        settle(operation, lockBudget);
        Plan plan;
        planningBudget = lockBudget;
        try {
            plan = planner.get();
        } catch (Timeout t) {
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

    /**
     * The same request after a failed concurrent build whose INVALID index could not be dropped: as on
     * the PostgreSQL engine, that index is dropped first (DROP INDEX CONCURRENTLY waits for every
     * transaction holding a lock on the table), retried by the policy, each wait within the budget; if
     * it still cannot, error 14 says the undo is not finished ({@code rolled_back: false}).
     */
    private void settle(Operation operation, Duration lockBudget) {
        SqlName index = pendingUndo.get(operation.identity());
        if (index == null) {
            return;
        }
        SqlName table = leftovers.get(index);
        if (table == null || catalog.index(index).filter(i -> i == CatalogView.IndexState.INVALID).isEmpty()) {
            pendingUndo.remove(operation.identity());
            return;
        }
        long waitedMs = 0;
        List<Blocker> blockedBy = List.of();
        for (int attempt = 1; attempt <= retries.attempts(); attempt++) {
            if (attempt > 1) {
                clock.advance(retries.backoffMs(attempt - 1) / 1000.0);
            }
            try {
                dropConcurrently(table, new CatalogChange.DropIndex(index), lockBudget);
                return;
            } catch (Timeout t) {
                locks.releaseAll(MIGRATION);
                waitedMs += t.waitedMs;
                blockedBy = t.blockedBy;
            }
        }
        throw new LockBudgetExceeded("an earlier run of this request left the INVALID index " + index + " on " + table
                + ", which could not be undone now; sending the same request again finishes the undo",
                table.value(), waitedMs, blockedBy, false, LockBudgetExceeded.progressOf(operation.type(), Map.of()));
    }

    /** A planning read of the table's rows: ACCESS SHARE for one statement, within the request's budget. */
    private void planningRead(SqlName table) {
        if (planningBudget != null) {
            read(table, planningBudget);
        }
    }

    /** One autocommit SELECT of the table: ACCESS SHARE from its grant to its end. */
    private void read(SqlName table, Duration lockBudget) {
        acquire(table, LockMode.ACCESS_SHARE, lockBudget);
        locks.releaseAll(MIGRATION);
    }

    @Override
    public Outcome execute(Plan plan, Duration lockBudget) {
        endFinishedTransactions();
        // A table the plan makes has no file before it; the open world must not assume it into being.
        long relfilenode = plan.createsTable() ? -1 : catalog.table(plan.table()).relfilenode();
        double start = clock.now();
        waitedSeconds = 0;
        attempts = 0;
        LockMode strongest = null;
        boolean tableLocked = false;
        long rows = 0;
        int batches = 0;
        catalog.begin();
        jobsOfThisPlan.clear();
        stepTimings.clear();
        Step failing = null;
        try {
            for (Step step : plan.steps()) {
                failing = step;
                double stepStart = clock.now();
                double waitedBefore = waitedSeconds;
                lastGrant = Double.NaN;
                heldPerBatch = null;
                try {
                    if (step instanceof Backfill backfill) {
                        Job job = job(backfill);
                        if (job.finishedBefore()) {
                            // Its checkpoint says it finished: the real engine reads the ledger, not the table.
                            rows += job.totals().rows();
                            batches += job.totals().batches();
                            continue;
                        }
                        // Where the keys end: one read of the table before the first batch.
                        read(step.table(), lockBudget);
                        if (!job.updates()) {
                            // No key at all, or no row wanted: no batch statement runs, so no ROW EXCLUSIVE.
                            // The checkpoint still says finished, so the same request again reads nothing.
                            finishedJobs.put(jobId(backfill), job.totals());
                            jobsOfThisPlan.add(jobId(backfill));
                            continue;
                        }
                        // A batch statement runs even when its key range holds no row: the UPDATE locks the table.
                        acquire(step.table(), step.lock(), lockBudget);
                        acquireOthers(step, lockBudget);
                        JobTotals totals = run(backfill, job);
                        rows += totals.rows();
                        batches += totals.batches();
                    } else if (step.work() == TableWork.BUILD_INDEX_CONCURRENTLY) {
                        buildConcurrently((Statement) step, lockBudget);
                    } else if (!((Statement) step).transactional()
                            && ((Statement) step).change() instanceof CatalogChange.DropIndex drop) {
                        dropLeftoverConcurrently(step.table(), drop, lockBudget);
                    } else if (!((Statement) step).transactional()
                            && ((Statement) step).change() instanceof CatalogChange.RemoveIndex) {
                        dropRequestedConcurrently((Statement) step, lockBudget);
                    } else {
                        if (isIndexBuild(step)) {
                            attempts++;
                        }
                        // A table being made is locked by its maker alone (no session sees it yet); IF NOT
                        // EXISTS of one there looks up its name and locks nothing.
                        if (!plan.createsTable()) {
                            acquire(step.table(), step.lock(), lockBudget);
                        }
                        catalog.checkBeforeChildren((Statement) step);
                        acquireOthers(step, lockBudget);
                        run((Statement) step);
                    }
                    strongest = strongest == null || step.lock().isStrongerThan(strongest) ? step.lock() : strongest;
                    // Every step commits on its own; its lock goes with the commit.
                    locks.releaseAll(MIGRATION);
                    // The PostgreSQL engine's rule: a blocking lock held while rows were read or written, or
                    // a rewrite. A build on an empty table blocks writers only for an instant.
                    tableLocked |= step.locksTable() && (catalog.rowsReached(step.table(),
                            step instanceof Statement s ? s.otherLocks() : List.of()) > 0
                            || step.work().rewrites());
                } finally {
                    double held = heldPerBatch != null ? heldPerBatch
                            : Double.isNaN(lastGrant) ? 0 : clock.now() - lastGrant;
                    stepTimings.add(new Prediction.StepTiming(CostModel.reported(clock.now() - stepStart),
                            CostModel.reported(waitedSeconds - waitedBefore), CostModel.reported(held)));
                }
            }
        } catch (Timeout t) {
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
        seen.put("lock_wait_ms", Math.round(waitedSeconds * 1000));
        return new Outcome(CostModel.reported(clock.now() - start), tableLocked, rewritten, rows, batches, seen);
    }

    private void rollback(SqlName table) {
        locks.releaseAll(MIGRATION);
        catalog.rollback(table);
        // A backfill the rollback undid (its column dropped with the plan) is not a finished job.
        jobsOfThisPlan.forEach(finishedJobs::remove);
        jobsOfThisPlan.clear();
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
            return Map.of("attempts", attempts);
        }
        if (plan.steps().stream().anyMatch(s -> s instanceof Statement st && !st.transactional()
                && st.change() instanceof CatalogChange.RemoveIndex)) {
            // The engine runs it as any statement outside a transaction block: in attempts.
            return Map.of("attempts", attempts);
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

    private void run(Statement statement) {
        SqlName table = statement.table();
        if (statement.change() instanceof CatalogChange.CreateTable) {
            catalog.apply(table, statement.change());
            clock.advance(cost.statement(statement.work(), 0));
            return;
        }
        clock.advance(cost.statement(statement.work(), catalog.table(table).rows()));
        if (statement.work().rewrites()) {
            catalog.rewrite(table);
        }
        catalog.apply(table, statement.change());
        if (statement.change() instanceof CatalogChange.CreateIndex create && catalog.lineage(table).partitioned()) {
            // A plain CREATE INDEX on a partitioned table recurses: every partition gets its index, attached.
            for (Planner.Cascaded below : new Planner(version, catalog).plainIndexRecursion(table, create.index(),
                    create.columns(), create.unique(), p -> catalog.adoptableIndex(p, create.columns(), create.unique()))) {
                catalog.apply(below.table(), below.change());
            }
        }
        if (statement.change() instanceof CatalogChange.AddColumn add) {
            // ADD COLUMN on a parent adds it to every partition and child (each checked as the server checks it).
            var parentNotNull = catalog.constraints(table).stream().filter(c -> c.kind() == ConstraintInfo.Kind.NOT_NULL
                    && c.columns().equals(List.of(add.column()))).map(ConstraintInfo::name).findFirst();
            for (SqlName below : new Planner(version, catalog).descendants(table)) {
                catalog.apply(below, statement.change());
                parentNotNull.ifPresent(name -> catalog.inheritNotNullName(below, add.column(), name));
            }
        }
        if (recursesToChildren(statement)) {
            // ALTER TABLE without ONLY: the NOT NULL steps reach every partition and child, an inherited
            // constraint under the parent's name (a drop or a validation where the child has it).
            for (SqlName below : new Planner(version, catalog).descendants(table)) {
                SqlName constraint = statement.change() instanceof CatalogChange.ValidateConstraint v ? v.constraint()
                        : statement.change() instanceof CatalogChange.DropConstraint d ? d.constraint() : null;
                if (constraint == null || catalog.constraints(below).stream().anyMatch(c -> c.name().value().equals(constraint.value()))) {
                    catalog.apply(below, statement.change());
                }
            }
        }
    }

    private static boolean recursesToChildren(Statement statement) {
        CatalogChange change = statement.change();
        return statement.sql().startsWith("ALTER TABLE " + statement.table().quoted() + " ")
                && (change instanceof CatalogChange.AddNotNullCheck || change instanceof CatalogChange.AddNotNullConstraint
                || change instanceof CatalogChange.ValidateConstraint || change instanceof CatalogChange.SetNotNull
                || change instanceof CatalogChange.DropConstraint);
    }

    /**
     * CIC takes SHARE UPDATE EXCLUSIVE, commits an INVALID index, then waits for every transaction
     * holding a lock that conflicts with SHARE (the writers) before its heap passes; lock_timeout bounds
     * each wait. A lost race leaves the INVALID index, which DROP INDEX CONCURRENTLY removes once no
     * transaction holds any lock on the table; only then is the build tried again, after a backoff. A
     * leftover that could not be dropped stays, as on the server, until the janitor can drop it.
     */
    private void buildConcurrently(Statement statement, Duration lockBudget) {
        SqlName table = statement.table();
        CatalogChange.CreateIndex index = (CatalogChange.CreateIndex) statement.change();
        for (int attempt = 1; ; attempt++) {
            attempts = attempt;
            // Each attempt first asks whether the table has rows. Behind an ACCESS EXCLUSIVE holder that
            // read is what loses, and it is not retried: DDL is running, and the reply comes within one budget.
            read(table, lockBudget);
            try {
                acquire(table, statement.lock(), lockBudget);
                catalog.addInvalidIndex(table, index);
                waitFor(table, locks.holdersConflictingWith(table, LockMode.SHARE, MIGRATION), lockBudget, () -> { });
                run(statement);
                catalog.keepBuilt(index.index());
                return;
            } catch (Timeout lost) {
                locks.releaseAll(MIGRATION);
                boolean dropped = catalog.index(index.index()).isEmpty() || dropInvalid(table, index, lockBudget);
                if (!dropped) {
                    leftovers.put(index.index(), table);
                    if (current != null) {
                        pendingUndo.put(current.identity(), index.index());
                    }
                }
                if (!dropped || attempt >= retries.attempts()) {
                    throw lost;
                }
                clock.advance(retries.backoffMs(attempt) / 1000.0);
            }
        }
    }

    /**
     * A plan's first step when an INVALID index of the name is left: DROP INDEX CONCURRENTLY, run as the
     * PostgreSQL engine runs it, in attempts like a build's: a read of the table first (not retried when
     * it loses), then SHARE UPDATE EXCLUSIVE and the wait for every transaction holding a lock on the
     * table, a lost race retried after a backoff.
     */
    private void dropLeftoverConcurrently(SqlName table, CatalogChange.DropIndex drop, Duration lockBudget) {
        for (int attempt = 1; ; attempt++) {
            attempts = attempt;
            read(table, lockBudget);
            try {
                dropConcurrently(table, drop, lockBudget);
                return;
            } catch (Timeout lost) {
                locks.releaseAll(MIGRATION);
                if (attempt >= retries.attempts()) {
                    throw lost;
                }
                clock.advance(retries.backoffMs(attempt) / 1000.0);
            }
        }
    }

    /**
     * DROP INDEX CONCURRENTLY of an index the request names, run as the PostgreSQL engine runs any
     * statement outside a transaction block: a read of the table first, then SHARE UPDATE EXCLUSIVE and
     * the wait for every transaction holding a lock on the table, a lost race retried after a backoff.
     */
    private void dropRequestedConcurrently(Statement step, Duration lockBudget) {
        SqlName table = step.table();
        for (int attempt = 1; ; attempt++) {
            attempts = attempt;
            read(table, lockBudget);
            try {
                acquire(table, step.lock(), lockBudget);
                waitFor(table, locks.holdersConflictingWith(table, LockMode.ACCESS_EXCLUSIVE, MIGRATION), lockBudget, () -> { });
                run(step);
                return;
            } catch (Timeout lost) {
                locks.releaseAll(MIGRATION);
                if (attempt >= retries.attempts()) {
                    throw lost;
                }
                clock.advance(retries.backoffMs(attempt) / 1000.0);
            }
        }
    }

    /** The failed build's own INVALID index, dropped at once if it can be: answers whether it is gone. */
    private boolean dropInvalid(SqlName table, CatalogChange.CreateIndex index, Duration lockBudget) {
        try {
            dropConcurrently(table, new CatalogChange.DropIndex(index.index()), lockBudget);
            return true;
        } catch (Timeout stillThere) {
            locks.releaseAll(MIGRATION);
            return false;
        }
    }

    /**
     * DROP INDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE, then a wait for every transaction holding any lock
     * on the table; lock_timeout bounds each wait on its own. The index and any undo owed for it are gone.
     */
    private void dropConcurrently(SqlName table, CatalogChange.DropIndex drop, Duration lockBudget) {
        acquire(table, LockMode.SHARE_UPDATE_EXCLUSIVE, lockBudget);
        waitFor(table, locks.holdersConflictingWith(table, LockMode.ACCESS_EXCLUSIVE, MIGRATION), lockBudget, () -> { });
        catalog.apply(table, drop);
        locks.releaseAll(MIGRATION);
        forget(drop.index());
    }

    /** A leftover that is gone: no request owes its undo any more. */
    private void forget(SqlName index) {
        leftovers.remove(index);
        pendingUndo.values().removeIf(index::equals);
    }

    /**
     * A backfill's work as the model sees it before it starts: done before, or the rows it will update;
     * {@code updates}: whether a batch statement runs at all (the table has keys, a row is wanted).
     */
    private record Job(JobTotals totals, boolean finishedBefore, boolean updates) {
    }

    /**
     * A job is its operation's, as the real engine's checkpoint belongs to its ledger row: the same
     * backfill in another migration (or at another place in one) is another job, which runs.
     */
    private String jobId(Backfill backfill) {
        return (current == null ? "" : current.identity()) + "\n" + backfill.jobKey();
    }

    private Job job(Backfill backfill) {
        JobTotals done = finishedJobs.get(jobId(backfill));
        if (done != null) {
            // The job's checkpoint says it finished: a repeated request answers its totals, redoes nothing.
            return new Job(done, true, false);
        }
        if (backfill.rowLimit() != null && backfill.condition() == null) {
            catalog.assumeAtLeast(backfill.table(), backfill.rowLimit());
        }
        long tableRows = catalog.table(backfill.table()).rows();
        KeyRange range = backfill.integerKey().map(key -> KeyRange.of(backfill.condition(), key)).orElse(null);
        long matching = range == null ? tableRows : range.count(tableRows);
        long rows = backfill.rowLimit() == null ? matching : Math.min(backfill.rowLimit(), matching);
        int batches = (int) ((rows + backfill.batchSize() - 1) / backfill.batchSize());
        boolean updates = tableRows > 0 && (backfill.rowLimit() == null || backfill.rowLimit() > 0);
        return new Job(new JobTotals(rows, batches), false, updates);
    }

    private JobTotals run(Backfill backfill, Job job) {
        JobTotals totals = job.totals();
        heldPerBatch = totals.batches() == 0 ? 0 : cost.batches(Math.min(backfill.batchSize(), totals.rows()), 1, 0);
        catalog.assumeColumns(backfill.table(), backfill.assignments().keySet());
        clock.advance(cost.batches(totals.rows(), totals.batches(), backfill.sleepMs()));
        if (totals.rows() == catalog.table(backfill.table()).rows()) {
            catalog.filled(backfill.table(), backfill.assignments().keySet());
        }
        finishedJobs.put(jobId(backfill), totals);
        jobsOfThisPlan.add(jobId(backfill));
        return totals;
    }

    /**
     * The step's locks on other tables, after its own, each under the budget: a lost wait names the table
     * it was for, as the PostgreSQL engine's observer reads it off pg_locks.
     */
    private void acquireOthers(Step step, Duration lockBudget) {
        for (Statement.OtherLock other : step.otherLocks()) {
            // A lock on an index is the index's own (a relation of its own in the lock table): a LOCK TABLE
            // holder locks the table alone, so ATTACH's ACCESS EXCLUSIVE on a partition's index does not
            // wait for a ROW SHARE on the partition (the statement's ACCESS SHARE on the table is the step's).
            var indexTable = catalog.indexTable(other.table());
            try {
                acquire(other.table(), other.mode(), lockBudget);
            } catch (Timeout t) {
                if (indexTable.isEmpty()) {
                    throw t;
                }
                // The PostgreSQL engine's observer names tables only: a wait for an index is the step's table's.
                throw new Timeout(step.table(), t.waitedMs, t.blockedBy);
            }
        }
    }

    private void acquire(SqlName table, LockMode mode, Duration lockBudget) {
        if (locks.request(MIGRATION, table, mode) == LockManager.Result.GRANTED) {
            lastGrant = clock.now();
            return;
        }
        waitFor(table, locks.blockers(MIGRATION, table), lockBudget, () -> locks.cancelWaiting(MIGRATION, table));
        if (locks.isWaiting(MIGRATION, table)) {
            throw new IllegalStateException("the migration's lock on " + table + " was not granted after its blockers ended");
        }
        lastGrant = clock.now();
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
        // Every session holds its lock (one that would wait is refused): in their order, they are granted again.
        sessions.forEach((name, session) -> {
            copy.sessions.put(name, session);
            if (session.spec().mode() != null) {
                for (SqlName table : tree(session.spec().table())) {
                    copy.locks.request(name, table, session.spec().mode());
                }
            }
        });
        copy.nextPid = nextPid;
        copy.finishedJobs.putAll(finishedJobs);
        copy.leftovers.putAll(leftovers);
        copy.pendingUndo.putAll(pendingUndo);
        return copy;
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
            throw new Timeout(table, lockBudget.toMillis(), blockedBy);
        }
        waitedSeconds += Math.max(0, until - clock.now());
        clock.advanceTo(until);
        endFinishedTransactions();
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
        endFinishedTransactions();
        if (sessions.containsKey(spec.session())) {
            throw ZdmException.exists("session " + spec.session());
        }
        catalog.table(spec.table());
        if (spec.mode() != null) {
            // LOCK TABLE without ONLY locks the table's partitions and children too, each NOWAIT.
            for (SqlName table : tree(spec.table())) {
                if (locks.request(spec.session(), table, spec.mode()) == LockManager.Result.WAITING) {
                    List<String> blockers = locks.blockers(spec.session(), table);
                    locks.cancelWaiting(spec.session(), table);
                    locks.releaseAll(spec.session());
                    throw new ZdmException(ErrorCode.ABORT, spec.mode() + " on " + table
                            + " is not free (held by " + String.join(", ", blockers) + "); the transaction was not opened");
                }
            }
        }
        double endsAt = spec.durationSeconds() == null ? Double.POSITIVE_INFINITY : clock.now() + spec.durationSeconds();
        sessions.put(spec.session(), new AppSession(spec, nextPid++, clock.now(), endsAt));
    }

    /** The table and every partition and child below it: what LOCK TABLE without ONLY locks. */
    private List<SqlName> tree(SqlName table) {
        List<SqlName> all = new ArrayList<>();
        all.add(table);
        all.addAll(new Planner(version, catalog).descendants(table));
        return all;
    }

    @Override
    public void closeTransaction(String session) {
        endFinishedTransactions();
        if (sessions.remove(session) == null) {
            throw ZdmException.missing("session " + session);
        }
        locks.releaseAll(session);
        dropLeftovers();
    }

    private void endFinishedTransactions() {
        boolean ended = sessions.values().removeIf(s -> {
            if (s.endsAt() <= clock.now()) {
                locks.releaseAll(s.spec().session());
                return true;
            }
            return false;
        });
        if (ended) {
            dropLeftovers();
        }
    }

    /** The janitor: an INVALID leftover goes as soon as no transaction holds a lock on its table. */
    private void dropLeftovers() {
        leftovers.entrySet().removeIf(leftover -> {
            SqlName table = leftover.getValue();
            if (!locks.holdersConflictingWith(table, LockMode.ACCESS_EXCLUSIVE, MIGRATION).isEmpty()) {
                return false;
            }
            if (catalog.index(leftover.getKey()).filter(s -> s == CatalogView.IndexState.INVALID).isPresent()) {
                catalog.apply(table, new CatalogChange.DropIndex(leftover.getKey()));
            }
            pendingUndo.values().removeIf(leftover.getKey()::equals);
            return true;
        });
    }

    @Override
    public void close() {
        // Nothing outlives the process.
    }
}
