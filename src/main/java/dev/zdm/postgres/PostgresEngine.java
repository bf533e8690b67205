package dev.zdm.postgres;

import dev.zdm.postgres.connect.AppSessions;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.DemoTable;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.connect.Writable;
import dev.zdm.postgres.connect.PoolerCheck;
import dev.zdm.postgres.ledger.Fingerprint;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import dev.zdm.postgres.observe.LockObserver;
import dev.zdm.postgres.observe.PgCatalog;
import dev.zdm.postgres.observe.TableProbe;
import dev.zdm.postgres.run.GuardedRead;
import dev.zdm.postgres.run.LockWaitTimedOut;
import dev.zdm.postgres.run.PlanSteps;
import dev.zdm.postgres.run.StepContext;
import dev.zdm.postgres.run.StepReport;
import dev.zdm.postgres.run.UndoJanitor;
import dev.zdm.Log;
import dev.zdm.Stopping;
import dev.zdm.engine.Interrupted;
import dev.zdm.config.Config;
import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Engine;
import dev.zdm.engine.Engines;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Operation;
import dev.zdm.engine.Outcome;
import dev.zdm.engine.Prediction;
import dev.zdm.engine.Throttling;
import dev.zdm.pg.Backfill;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.Step;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs plans on a real PostgreSQL and reports what it observed: each step under lock_timeout, the
 * concurrent index builds outside a transaction, backfills in checkpointed batches, and on a lost
 * lock race the steps already committed undone in reverse order. Durations are wall clock;
 * table_rewritten is the table's relfilenode before and after; table_locked follows the rule of
 * {@link StepReport#lockedTable()}.
 */
public final class PostgresEngine implements Engine {

    private final Database database;
    private final EmbeddedServer embedded;
    private final Backend backend;
    private final LockObserver observer;
    private final AppSessions sessions;
    private final UndoJanitor janitor;
    private final BlockerNames blockers;
    private final LedgerGate ledger;
    private final Ownership ownership;
    private final Aborts aborts;
    private final EarlierRuns earlier;
    private final PgMigrations migrations;
    private final PgCatalog catalog;
    private final ResumedColumnView planned;
    private final ServerVersion version;
    private final int retries;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The request running now: the planner's reads of the table run under its budget and answer in its shape. */
    private Duration budget = Duration.ofSeconds(2);
    private Operation current;
    private volatile Throttling throttleDefaults = Throttling.NONE;

    private PostgresEngine(Database database, EmbeddedServer embedded, int retries, Duration defaultBudget)
            throws SQLException {
        this.database = database;
        this.embedded = embedded;
        this.retries = retries;
        this.backend = new Backend(database, "zdm-migration");
        this.observer = new LockObserver(database);
        this.sessions = new AppSessions(database);
        this.janitor = new UndoJanitor(database, defaultBudget);
        this.blockers = new BlockerNames(sessions, backend, observer);
        this.ledger = new LedgerGate(backend, blockers, defaultBudget);
        this.ownership = new Ownership(backend, blockers, this::failed);
        this.aborts = new Aborts(backend, observer, janitor, blockers, retries, this::failed);
        this.migrations = new PgMigrations(backend, sessions, this::report);
        this.catalog = new PgCatalog(backend, this::guardedRead);
        this.planned = new ResumedColumnView(catalog);
        this.earlier = new EarlierRuns(backend, observer, planned, aborts, retries, this::failed);
        try {
            this.version = serverVersion(backend.connection());
            Writable.require(backend.connection());
            // Once per engine start, and per request only when it is missing: the ledger's DDL takes locks of its own.
            ledger.upgradeAtStart();
        } catch (SQLException e) {
            // No engine comes of it: its connections would outlive the failed start.
            janitor.close();
            sessions.close();
            observer.close();
            backend.close();
            throw e;
        }
        janitor.poke();
    }

    /** The engine the configuration names: an embedded server or the one at the URL. */
    public static PostgresEngine open(Config config) throws Engines.StartFailed {
        EmbeddedServer embedded = null;
        Database database;
        if (Config.EMBEDDED.equals(config.database())) {
            try {
                embedded = EmbeddedServer.start();
            } catch (Exception e) {
                throw new Engines.StartFailed("the embedded PostgreSQL did not start: " + e.getMessage(), e);
            }
            database = embedded.database();
        } else {
            try {
                database = Database.parse(config.database());
            } catch (IllegalArgumentException e) {
                throw new Engines.StartFailed(e.getMessage(), e);
            }
        }
        PostgresEngine engine = connect(database, embedded, config.retries(), config.lockBudget());
        engine.throttleDefaults(config.throttling());
        if (config.demoRows() != null) {
            try {
                DemoTable.ensure(engine.backend.connection(), config.demoRows());
            } catch (SQLException e) {
                engine.close();
                throw new Engines.StartFailed("creating the demo table failed: " + PgErrors.firstLine(e), e);
            }
        }
        return engine;
    }

    /** An engine on {@code database}; {@code retries} attempts for a concurrent index build. */
    public static PostgresEngine connect(Database database, int retries) throws Engines.StartFailed {
        return connect(database, null, retries, Duration.ofSeconds(2));
    }

    private static PostgresEngine connect(Database database, EmbeddedServer embedded, int retries, Duration budget)
            throws Engines.StartFailed {
        try {
            PoolerCheck.refuse(database);
            PostgresEngine engine = new PostgresEngine(database, embedded, retries, budget);
            // A SIGTERM's job stops between batches and answers first; the connection closes after.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                Stopping.request();
                dev.zdm.postgres.connect.StopCancel.cancel(engine.backend);
                Stopping.stopAndAwaitIdle(Stopping.GRACE);
                engine.close();
            }, "zdm-postgres-shutdown"));
            return engine;
        } catch (SQLException e) {
            if (embedded != null) {
                embedded.close();
            }
            throw new Engines.StartFailed(PgErrors.atStart(e, database.toString()), e);
        }
    }

    @Override
    public String name() {
        return "postgres";
    }

    @Override
    public ServerVersion version() {
        return version;
    }

    @Override
    public CatalogView catalog() {
        return planned;
    }

    /** Where this engine connects; tests and tools use it to open their own connections. */
    public Database database() {
        return database;
    }

    /** The node's throttle settings: what a request leaves unset. */
    public void throttleDefaults(Throttling defaults) {
        this.throttleDefaults = defaults;
    }

    /** A plan with no request behind it: its identity is its statements. */
    @Override
    public synchronized Outcome execute(Plan plan, Duration lockBudget) {
        String identity = "plan:" + plan.table() + ":" + plan.steps().stream().map(Step::sql).toList();
        return run(new Operation("plan", plan.table(), identity, "{}", Throttling.UNSET), () -> plan, lockBudget);
    }

    /**
     * Makes the operation this backend's (its advisory lock), settles what an earlier run of the same
     * operation left undone, plans, and runs the plan step by step with the ledger kept in step.
     */
    @Override
    public synchronized Outcome run(Operation operation, Supplier<Plan> planner, Duration lockBudget) {
        this.budget = lockBudget;
        this.current = operation;
        // Before any lock of the request's: the janitor's locks would otherwise be among its blockers.
        janitor.pause();
        try {
            beforeRequest(operation, lockBudget);
            Fingerprint fingerprint = fingerprint(operation);
            long ownerWaitMs = ownership.take(operation, fingerprint, lockBudget);
            try {
                Optional<EarlierRuns.Resumable> resumable = earlier.settle(operation, fingerprint, lockBudget, ownerWaitMs);
                Plan plan = earlier.plan(operation, planner, resumable);
                return runPlan(operation, fingerprint, plan, lockBudget, ownerWaitMs, resumable);
            } finally {
                ownership.release(fingerprint);
            }
        } finally {
            janitor.resume();
        }
    }

    /** The operation's fingerprint, keyed by the OID of the table it names as this connection resolves it. */
    private Fingerprint fingerprint(Operation operation) {
        try {
            return fingerprint(backend.connection(), operation);
        } catch (SQLException e) {
            throw failed(e, "looking up table " + operation.table());
        }
    }

    /** The operation's fingerprint on {@code c}: its identity and its table's OID (0 when there is none). */
    static Fingerprint fingerprint(Connection c, Operation operation) throws SQLException {
        if (MAKES_ITS_TABLE.contains(operation.type())) {
            // No OID before it runs, another after: keyed by the name (in its identity), so a resend finds it.
            return Fingerprint.of(operation.identity(), 0L);
        }
        return Fingerprint.of(operation.identity(), PgCatalog.tableOid(c, operation.table()).orElse(0L));
    }

    /** The operations whose table does not exist until they run. */
    private static final Set<String> MAKES_ITS_TABLE = Set.of("create_table");

    /** plan: true: see {@link LivePlan}; nothing of this engine's runs or is written. */
    @Override
    public synchronized Prediction predict(Operation operation, Function<Planner, Plan> planner, Duration lockBudget) {
        return LivePlan.predict(database, version, retries, operation, planner, lockBudget);
    }

    /** A read of the ledger for status, whose reply is the ledger itself. */
    interface LedgerRead<T> {
        T read(Connection c) throws SQLException;
    }

    /** A read of the ledger for status: see {@link LedgerGate#report}. */
    <T> T report(String table, String doing, LedgerRead<T> read) {
        return ledger.report(table, doing, read);
    }

    /**
     * Connections lost while idle are replaced now rather than failing the request, and pending undos
     * are retried at each request too (and INVALID indexes whose owner is gone, whatever the request), so
     * none waits for the node's next start or for its own request to come back.
     */
    private void beforeRequest(Operation operation, Duration lockBudget) {
        try {
            backend.validateIfIdle();
            observer.validateIfIdle();
        } catch (SQLException e) {
            // The request itself will meet the same trouble and answer it.
            Log.info("checking the idle connections: " + PgErrors.firstLine(e));
        }
        ledger.underBudget(operation, lockBudget);
        try {
            if (!Ledger.undoPending(backend.connection()).isEmpty()) {
                janitor.poke();
            }
        } catch (SQLException e) {
            if (PgErrors.lostLockRace(e) && current != null) {
                throw ledger.locked(current, budget.toMillis(), e);
            }
            // The request itself will meet the same trouble and answer it.
            Log.info("looking for pending undos: " + PgErrors.firstLine(e));
        }
    }

    private Outcome runPlan(Operation operation, Fingerprint fingerprint, Plan plan, Duration lockBudget,
                            long ownerWaitMs, Optional<EarlierRuns.Resumable> resumable) {
        long started = System.nanoTime();
        StepContext ctx;
        String fileBefore;
        try {
            Connection c = backend.connection();
            Optional<Long> found = PgCatalog.tableOid(c, plan.table());
            // A table the plan makes has no OID yet: its ledger row and lock watch name none (0).
            long oid = plan.createsTable() ? found.orElse(0L)
                    : found.orElseThrow(() -> ZdmException.missing("table " + plan.table()));
            // A plan of one batched job resumes from its checkpoint, and so does the add_column a crash
            // left half-made; another plan of statements starts afresh.
            // A plan of batched jobs only (one per partition or child) resumes each from its checkpoint.
            boolean fresh = !plan.steps().stream().allMatch(s -> s instanceof Backfill) && resumable.isEmpty();
            // jsonb cannot hold a NUL; such a request was refused unless the NUL sat in a field zdm ignores.
            long id = Ledger.begin(c, fingerprint, operation.type(), plan.table().value(), oid,
                    operation.requestJson().replace("\\u0000", "\\ufffd"), EarlierRuns.planJson(plan), fresh);
            Ledger.budget(c, id, lockBudget.toMillis());
            if (resumable.isPresent() && Ledger.madeBy(c, id, resumable.get().column().step()).isEmpty()) {
                // The ledger lost the record of the column this operation made: it is recorded again.
                Ledger.record(c, id, resumable.get().column());
            }
            earlier.restoreLostPosition(c, fingerprint, plan, id, oid);
            ctx = new StepContext(plan.table(), backend, observer, oid, lockBudget, retries,
                    operation.throttling().over(throttleDefaults), id, 0);
            fileBefore = TableProbe.heapFiles(c, oid);
        } catch (SQLException e) {
            throw failed(e, "preparing to run on " + plan.table());
        }
        List<StepReport> reports = new ArrayList<>();
        int first = resumable.map(r -> r.column().kind() == MadeObject.Kind.INDEX ? plan.steps().size()
                : r.stepsDone()).orElse(0);
        for (int i = first; i < plan.steps().size(); i++) {
            Step step = plan.steps().get(i);
            try {
                if (i > first && Stopping.requested()) {
                    throw new Interrupted("stopped before step " + (i + 1) + " of " + plan.steps().size()
                            + ", the steps before it done and kept", Map.of());
                }
                reports.add(PlanSteps.run(step, onItsTable(step, ctx.atStep(i))));
                Ledger.stepsDone(backend.connection(), ctx.operationId(), i + 1);
            } catch (Interrupted e) {
                throw aborts.interrupted(operation, ctx, e);
            } catch (LockWaitTimedOut e) {
                Log.info("step " + (i + 1) + " of " + plan.steps().size() + " aborted: " + e.getMessage());
                throw aborts.onLock(operation, plan, ctx.atStep(i), PlanSteps.withEarlierJobs(e, reports), PlanSteps.waited(reports) + ownerWaitMs);
            } catch (SQLException | ZdmException e) {
                if (dev.zdm.postgres.connect.StopCancel.causedBy(e)) {
                    throw aborts.interrupted(operation, ctx, new Interrupted("step " + (i + 1) + " of "
                            + plan.steps().size() + " cancelled (" + step.sql() + "), what the steps made kept",
                            Map.of()));
                }
                Optional<String> lost = ledger.lostUnder(ctx.operationId(), e);
                if (lost.isPresent()) {
                    throw earlier.stoppedWithoutLedger(operation, fingerprint, ctx.atStep(i), lost.get(), e);
                }
                throw aborts.onFailure(plan, i, first, ctx, e);
            }
        }
        String fileAfter;
        try {
            Ledger.state(backend.connection(), ctx.operationId(), Ledger.State.DONE, null);
            fileAfter = TableProbe.heapFiles(backend.connection(), ctx.tableOid());
        } catch (SQLException e) {
            throw failed(e, "reading back " + plan.table());
        }
        return PlanSteps.outcome(reports, started, !fileBefore.equals(fileAfter));
    }

    /** A step on another table than the operation's (a partition's index) runs, observes and records on that table. */
    private StepContext onItsTable(Step step, StepContext ctx) throws SQLException {
        if (step.table().equals(ctx.table())) {
            return ctx;
        }
        long oid = PgCatalog.tableOid(backend.connection(), step.table())
                .orElseThrow(() -> ZdmException.missing("table " + step.table()));
        return ctx.on(step.table(), oid);
    }

    /** The planner's reads of the table's rows: under the budget, observed, a lost race answered as 14. */
    private <T> T guardedRead(SqlName table, String doing, PgCatalog.Query<T> query) {
        try {
            Connection c = backend.connection();
            long oid = PgCatalog.tableOid(c, table).orElseThrow(() -> ZdmException.missing("table " + table));
            return GuardedRead.run(backend, observer, oid, budget, doing, Map.of(), query::run);
        } catch (LockWaitTimedOut e) {
            throw new LockBudgetExceeded(table.value(), e.waitedMs(), blockers.describe(e.blockers()),
                    current == null ? Map.of() : Aborts.replyShape(current, Map.of()));
        } catch (SQLException e) {
            throw failed(e, doing);
        }
    }

    private ZdmException failed(SQLException e, String doing) {
        if (PgErrors.connectionLost(e)) {
            backend.discard();
        }
        if (PgErrors.lostLockRace(e) && current != null) {
            // The engine's own statements (the ledger's above all) wait no longer than the request's budget.
            return ledger.locked(current, budget.toMillis(), e);
        }
        return PgErrors.toReply(e, doing);
    }

    @Override
    public dev.zdm.engine.Migrations migrations() {
        return migrations;
    }

    @Override
    public List<dev.zdm.engine.OperationStatus> operations(int limit) {
        return report("zdm.operations", "reading zdm.operations", c -> LedgerReport.operations(c, sessions, limit));
    }

    @Override
    public Map<String, Long> operationCounts() {
        return report("zdm.operations", "counting zdm.operations", LedgerReport::counts);
    }

    @Override
    public void openTransaction(AppTransaction spec) {
        sessions.open(spec);
    }

    @Override
    public void closeTransaction(String session) {
        sessions.close(session);
    }

    private static ServerVersion serverVersion(Connection c) throws SQLException {
        try (java.sql.Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version_num")) {
            rs.next();
            return new ServerVersion(Integer.parseInt(rs.getString(1)) / 10_000);
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        sessions.close();
        janitor.close();
        observer.close();
        backend.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
