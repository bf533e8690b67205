package dev.zdm.postgres;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.postgres.connect.AppSessions;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.DemoTable;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.connect.Writable;
import dev.zdm.postgres.connect.PoolerCheck;
import dev.zdm.postgres.ledger.Checkpoints;
import dev.zdm.postgres.ledger.Fingerprint;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.LedgerSchema;
import dev.zdm.postgres.ledger.MadeObject;
import dev.zdm.postgres.ledger.OperationLock;
import dev.zdm.postgres.observe.LockModes;
import dev.zdm.postgres.observe.LockObserver;
import dev.zdm.postgres.observe.PgCatalog;
import dev.zdm.postgres.observe.TableProbe;
import dev.zdm.postgres.run.BackfillRunner;
import dev.zdm.postgres.run.GuardedRead;
import dev.zdm.postgres.run.IndexBuilder;
import dev.zdm.postgres.run.LockWaitTimedOut;
import dev.zdm.postgres.run.ObjectUndo;
import dev.zdm.postgres.run.PartitionedIndexResume;
import dev.zdm.postgres.run.StatementRunner;
import dev.zdm.postgres.run.StepContext;
import dev.zdm.postgres.run.StepReport;
import dev.zdm.postgres.run.UndoJanitor;
import dev.zdm.Log;
import dev.zdm.Stopping;
import dev.zdm.engine.Interrupted;
import dev.zdm.config.Config;
import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Blocker;
import dev.zdm.engine.Engine;
import dev.zdm.engine.Engines;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Operation;
import dev.zdm.engine.Outcome;
import dev.zdm.engine.Prediction;
import dev.zdm.engine.Throttling;
import dev.zdm.pg.Backfill;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.Statement;
import dev.zdm.pg.Step;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Runs plans on a real PostgreSQL and reports what it observed: each step under lock_timeout, the
 * concurrent index builds outside a transaction, backfills in checkpointed batches, and on a lost
 * lock race the steps already committed undone in reverse order. Durations are wall clock;
 * table_rewritten is the table's relfilenode before and after; table_locked follows the rule of
 * {@link StepReport#lockedTable()}.
 */
public final class PostgresEngine implements Engine {

    /** How often a request waiting for an operation's owner asks again. */
    private static final long OWNER_POLL_MS = 25;

    private final Database database;
    private final EmbeddedServer embedded;
    private final Backend backend;
    private final LockObserver observer;
    private final AppSessions sessions;
    private final UndoJanitor janitor;
    private final PgMigrations migrations;
    private final PgCatalog catalog;
    private final ResumedColumnView planned;
    private final Duration defaultBudget;
    /** False until the ledger is known complete: at start when it was locked, after it was dropped. */
    private boolean ledgerReady;
    /**
     * Where jobs stood when the ledger lost their rows (deleted, or schema zdm dropped), by fingerprint:
     * the same request sent to this node again resumes there. Only this process knows it.
     */
    private final Map<String, Checkpoints.Written> lostPositions = new HashMap<>();
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
        this.migrations = new PgMigrations(backend, sessions, this::report);
        this.catalog = new PgCatalog(backend, this::guardedRead);
        this.planned = new ResumedColumnView(catalog);
        this.defaultBudget = defaultBudget;
        try {
            this.version = serverVersion(backend.connection());
            Writable.require(backend.connection());
            // Once per engine start, and per request only when it is missing: the ledger's DDL takes locks of its own.
            upgradeLedgerAtStart();
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
        beforeRequest(operation, lockBudget);
        Fingerprint fingerprint = fingerprint(operation);
        long ownerWaitMs = takeOwnership(operation, fingerprint, lockBudget);
        try {
            Optional<Resumable> resumable = settle(operation, fingerprint, lockBudget, ownerWaitMs);
            Plan plan = plan(operation, planner, resumable);
            return runPlan(operation, fingerprint, plan, lockBudget, ownerWaitMs, resumable);
        } finally {
            releaseOwnership(fingerprint);
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

    /**
     * Every ledger statement of the request waits for a lock no longer than its budget (a session that
     * holds LOCK zdm.operations costs the request a 14, not a hang), and a ledger that is not all there
     * (dropped, or never made because it was locked at start) is made again first.
     */
    private void ledgerUnderBudget(Operation operation, Duration lockBudget) {
        long started = System.nanoTime();
        try {
            Connection c = backend.connection();
            StepContext.setLockTimeout(c, lockBudget);
            if (!ledgerReady || !LedgerSchema.complete(c)) {
                if (ledgerReady) {
                    Log.info("ledger: schema zdm is not all there (dropped or damaged while the node ran); making it again");
                }
                LedgerSchema.upgrade(c);
                ledgerReady = true;
            }
        } catch (SQLException e) {
            if (PgErrors.lostLockRace(e)) {
                throw ledgerLocked(operation, StepContext.millisSince(started), e);
            }
            throw failed(e, "preparing zdm's ledger (schema zdm)");
        }
    }

    /** The engine's start: the ledger made or upgraded under the node's budget, or left for the first request. */
    private void upgradeLedgerAtStart() throws SQLException {
        Connection c = backend.connection();
        StepContext.setLockTimeout(c, defaultBudget);
        try {
            LedgerSchema.upgrade(c);
            ledgerReady = true;
        } catch (SQLException e) {
            if (!PgErrors.lostLockRace(e)) {
                throw new SQLException("zdm's ledger (schema zdm): " + PgErrors.firstLine(e), e.getSQLState(), e);
            }
            Log.info("ledger: schema zdm is locked by another session (" + PgErrors.firstLine(e) + "); the first"
                    + " request makes it under its own budget");
        }
    }

    /** A read of the ledger for status, whose reply is the ledger itself. */
    interface LedgerRead<T> {
        T read(Connection c) throws SQLException;
    }

    /**
     * A read of the ledger for status, as a request's ledger statements run: under the node's lock
     * budget (a session holding LOCK zdm.operations costs it a 14 naming that session, and no other
     * request's progress), on a ledger made again first when it is not all there (dropped), and read
     * again once when it went while being read (DROP SCHEMA zdm CASCADE committed under the read).
     */
    <T> T report(String table, String doing, LedgerRead<T> read) {
        long started = System.nanoTime();
        try {
            Connection c = backend.connection();
            StepContext.setLockTimeout(c, defaultBudget);
            for (int attempt = 1; ; attempt++) {
                if (!ledgerReady || !LedgerSchema.complete(c)) {
                    LedgerSchema.upgrade(c);
                    ledgerReady = true;
                }
                try {
                    return read.read(c);
                } catch (SQLException e) {
                    if (attempt > 1 || PgErrors.lostLockRace(e) || PgErrors.connectionLost(e) || LedgerSchema.complete(c)) {
                        throw e;
                    }
                    Log.info("ledger: schema zdm went while " + doing + " (" + PgErrors.firstLine(e) + "); making it again");
                }
            }
        } catch (SQLException e) {
            if (PgErrors.lostLockRace(e)) {
                throw ledgerLocked(table, Map.of(), StepContext.millisSince(started), e);
            }
            if (PgErrors.connectionLost(e)) {
                backend.discard();
            }
            throw PgErrors.toReply(e, doing);
        }
    }

    /** A ledger statement's lock not granted within the budget: 14, naming who holds zdm's tables. */
    private ZdmException ledgerLocked(Operation operation, long waitedMs, SQLException e) {
        return ledgerLocked(operation.table().value(), replyShape(operation, Map.of()), waitedMs, e);
    }

    private ZdmException ledgerLocked(String table, Map<String, Object> shape, long waitedMs, SQLException e) {
        Set<Integer> holders = new LinkedHashSet<>();
        try (java.sql.Statement s = backend.connection().createStatement(); ResultSet rs = s.executeQuery("""
                SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class r ON r.oid = l.relation
                WHERE r.relnamespace = to_regnamespace('zdm') AND l.granted AND l.pid <> pg_backend_pid()""")) {
            while (rs.next()) {
                holders.add(rs.getInt(1));
            }
        } catch (SQLException failed) {
            Log.info("reading who holds zdm's ledger: " + PgErrors.firstLine(failed));
        }
        List<Blocker> blockers = describe(holders);
        return new LockBudgetExceeded("zdm's ledger (schema zdm) is locked: a lock on it was not granted within "
                + waitedMs + " ms" + (blockers.isEmpty() ? "" : ", held by " + blockers.stream().map(Blocker::label)
                .collect(Collectors.joining(", "))) + " (" + PgErrors.firstLine(e) + "); nothing done", table, waitedMs, blockers,
                true, shape);
    }

    /**
     * An earlier run of the same add_column that left its column: the step to go on from, the column,
     * the plan it started with (null: the ledger lost it, and this node remembers only the column). Or
     * an earlier run of the same create_index whose index the server finished building: nothing is left
     * to run, and {@code column} is that index.
     */
    private record Resumable(long id, int stepsDone, MadeObject column, String plan) {
    }

    /**
     * The column of an add_column this node was running when the ledger lost its rows, if it is still
     * there (same table, attnum and name): resumed as if the ledger had kept it.
     */
    private Optional<Resumable> columnTheLedgerLost(Operation operation, Fingerprint fingerprint) throws SQLException {
        Checkpoints.Written lost = lostPositions.get(fingerprint.hex());
        if (lost == null || lost.binding().attnum() == null) {
            return Optional.empty();
        }
        String column = requestedColumn(operation);
        if (!Ledger.columnAt(backend.connection(), lost.binding().tableOid(), lost.binding().attnum(), column)) {
            lostPositions.remove(fingerprint.hex());
            return Optional.empty();
        }
        MadeObject made = MadeObject.column(0, column, lost.binding().tableOid(), lost.binding().attnum());
        Log.info("resuming " + operation.type() + " on " + operation.table() + ", which the ledger lost: "
                + made.describe() + " is kept");
        return Optional.of(new Resumable(-1, lost.binding().step(), made, null));
    }

    private static String requestedColumn(Operation operation) {
        try {
            return Json.MAPPER.readTree(operation.requestJson()).path("column").asText("");
        } catch (java.io.IOException e) {
            throw new IllegalStateException("a request that was read as JSON is JSON: " + operation.requestJson(), e);
        }
    }

    /**
     * The plan for the request. For a resumed add_column, planned as if its column were not there yet,
     * and only if that is the plan the earlier run started (the table may have changed since). Another
     * request meeting a column zdm has not finished making is told whose it is and how to finish it.
     */
    private Plan plan(Operation operation, Supplier<Plan> planner, Optional<Resumable> resumable) {
        if (resumable.isEmpty()) {
            try {
                return planner.get();
            } catch (ZdmException e) {
                throw e.code() == ErrorCode.KEY_ALREADY_EXISTS ? unfinishedOwner(operation, e) : e;
            }
        }
        Resumable r = resumable.get();
        if (r.column().kind() == MadeObject.Kind.INDEX) {
            return planned.withoutIndex(operation.table(), SqlName.of(r.column().name()), planner);
        }
        Plan plan = r.column().kind() == MadeObject.Kind.CONSTRAINT
                ? planned.withoutConstraint(operation.table(), SqlName.of(r.column().name()), planner)
                : planned.without(operation.table(), SqlName.of(r.column().name()), planner);
        if (r.plan() == null) {
            return plan;
        }
        try {
            if (Json.MAPPER.readTree(r.plan()).equals(Json.MAPPER.readTree(planJson(plan)))) {
                return plan;
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("zdm.operations holds a plan that is not JSON: " + r.plan(), e);
        }
        throw ZdmException.precondition("an earlier run of this request (zdm.operations id " + r.id() + ") made "
                + r.column().describe() + " and stopped after step " + r.stepsDone() + "; planned now, the request"
                + " takes other steps than it did then (" + r.plan() + "), so it is not resumed: finish it by hand, or"
                + (r.column().kind() == MadeObject.Kind.CONSTRAINT ? " drop the constraint (ALTER TABLE ... DROP CONSTRAINT)"
                : " drop the column (ALTER TABLE ... DROP COLUMN)") + " and send the request again");
    }

    /** A 21 for a column that is zdm's unfinished add_column: says so, and how to finish or undo it. */
    private ZdmException unfinishedOwner(Operation operation, ZdmException exists) {
        if (!"add_column".equals(operation.type())) {
            return exists;
        }
        try {
            Connection c = backend.connection();
            String column = requestedColumn(operation);
            Optional<Long> oid = PgCatalog.tableOid(c, operation.table());
            Optional<Ledger.Unfinished> owner = oid.isEmpty() ? Optional.empty()
                    : Ledger.columnOwner(c, oid.get(), column);
            if (owner.isEmpty()) {
                return exists;
            }
            Ledger.Unfinished u = owner.get();
            ObjectNode request = (ObjectNode) Json.MAPPER.readTree(u.requestJson());
            request.remove("msg_id");
            // An operation of a migration carries its place there ("position:name"), which a request cannot send.
            com.fasterxml.jackson.databind.JsonNode place = request.remove("zdm_migration_place");
            String resend = place == null ? "send that same request again"
                    : "send migration " + place.asText().substring(place.asText().indexOf(':') + 1) + " again";
            return new ZdmException(ErrorCode.KEY_ALREADY_EXISTS, exists.getMessage() + ": it is zdm's unfinished "
                    + u.kind() + " (zdm.operations id " + u.id() + ", state " + u.state() + "), started by " + request
                    + (place == null ? "" : " (operation " + place.asText().substring(0, place.asText().indexOf(':'))
                    + " of a migration)") + "; " + resend + " to finish it (its backfill resumes where it stopped), or drop"
                    + " the column (ALTER TABLE " + operation.table().quoted() + " DROP COLUMN "
                    + SqlName.of(column).quoted() + ") to undo it", exists.details(), exists);
        } catch (SQLException e) {
            Log.info("looking up who made the column: " + PgErrors.firstLine(e));
            return exists;
        } catch (java.io.IOException | RuntimeException e) {
            Log.info("looking up who made the column: " + e);
            return exists;
        }
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
        ledgerUnderBudget(operation, lockBudget);
        try {
            if (!Ledger.undoPending(backend.connection()).isEmpty()) {
                janitor.poke();
            }
        } catch (SQLException e) {
            if (PgErrors.lostLockRace(e) && current != null) {
                throw ledgerLocked(current, budget.toMillis(), e);
            }
            // The request itself will meet the same trouble and answer it.
            Log.info("looking for pending undos: " + PgErrors.firstLine(e));
        }
    }

    /**
     * Takes the operation's advisory lock, waiting within the budget for a node that holds it; past
     * the budget, error 14 naming that node's backend. Answers how long it waited.
     */
    private long takeOwnership(Operation operation, Fingerprint fingerprint, Duration lockBudget) {
        long started = System.nanoTime();
        try {
            Connection c = backend.connection();
            while (!OperationLock.tryTake(c, fingerprint.lockKey())) {
                long waited = StepContext.millisSince(started);
                if (waited >= lockBudget.toMillis()) {
                    Optional<Integer> holder = OperationLock.holder(c, fingerprint.lockKey());
                    List<Blocker> blockers = holder.isEmpty() ? List.of() : describe(Set.of(holder.get()));
                    throw new LockBudgetExceeded("operation already running: " + operation.type() + " on "
                            + operation.table() + " is owned by " + (holder.isEmpty() ? "another zdm session"
                            : blockers.get(0).label()) + " (its advisory lock was not free within " + waited
                            + " ms); nothing done", operation.table().value(), waited, blockers, true,
                            refusedProgress(operation, fingerprint));
                }
                Thread.sleep(Math.min(OWNER_POLL_MS, lockBudget.toMillis() - waited));
            }
            return StepContext.millisSince(started);
        } catch (SQLException e) {
            throw failed(e, "taking ownership of " + operation.type() + " on " + operation.table());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZdmException(ErrorCode.CRASH, "interrupted while waiting for the owner of " + operation.type());
        }
    }

    private void releaseOwnership(Fingerprint fingerprint) {
        try {
            OperationLock.release(backend.connection(), fingerprint.lockKey());
        } catch (SQLException e) {
            // A lost connection has released it with its backend.
            Log.info("releasing the operation lock: " + PgErrors.firstLine(e));
            if (PgErrors.connectionLost(e)) {
                backend.discard();
            }
        }
    }

    /** What a refused request reports of the operation: the shape its own 14 has. */
    private Map<String, Object> refusedProgress(Operation operation, Fingerprint fingerprint) throws SQLException {
        Map<String, Object> progress = new LinkedHashMap<>();
        if ("create_index".equals(operation.type())) {
            progress.put("attempts", 0);
        } else if ("migrate_data".equals(operation.type())) {
            Optional<Ledger.Entry> entry = Ledger.find(backend.connection(), fingerprint);
            Optional<Checkpoints.State> state = entry.isEmpty() ? Optional.empty()
                    : Checkpoints.latest(backend.connection(), entry.get().id());
            progress.put("total_rows", state.map(Checkpoints.State::rowsDone).orElse(0L));
            progress.put("batches", state.map(Checkpoints.State::batchesDone).orElse(0));
        }
        return progress;
    }

    /**
     * An earlier run of this operation that did not finish (failed, crashed, or left an undo pending)
     * is undone first, by OID, so the plan starts from a clean table: never error 21 for zdm's own
     * half-made column. A batched job makes nothing and is resumed instead (its checkpoint).
     */
    private Optional<Resumable> settle(Operation operation, Fingerprint fingerprint, Duration lockBudget,
                                       long ownerWaitMs) {
        try {
            Optional<Ledger.Entry> earlier = Ledger.find(backend.connection(), fingerprint);
            if (earlier.isEmpty()) {
                return columnTheLedgerLost(operation, fingerprint);
            }
            if (earlier.get().state() == Ledger.State.DONE) {
                return Optional.empty();
            }
            long id = earlier.get().id();
            if ("create_index".equals(operation.type())) {
                // A node killed mid-build: its backend finishes the concurrent build all the same. The
                // VALID index this operation recorded is its own work done, not another's name (21).
                Optional<MadeObject> built = Ledger.builtIndex(backend.connection(), id, earlier.get().tableOid());
                if (built.isPresent()) {
                    Log.info("operation " + id + " (" + operation.type() + " on " + operation.table() + "): "
                            + built.get().describe() + " is VALID, built by its earlier run; nothing left to run");
                    return Optional.of(new Resumable(id, earlier.get().stepsDone(), built.get(), null));
                }
            }
            if ("create_index".equals(operation.type()) && earlier.get().state() != Ledger.State.UNDO_PENDING
                    && PartitionedIndexResume.settle(backend, id, earlier.get().tableOid(), lockBudget)) {
                return Optional.empty();
            }
            if (earlier.get().state() != Ledger.State.UNDO_PENDING) {
                // A crashed or interrupted run's column is live: the application may have written it, read
                // its values, handed them out. Resumed, never dropped and made again.
                Optional<MadeObject> column = Ledger.liveColumn(backend.connection(), id);
                if (column.isEmpty()) {
                    // A constraint committed NOT VALID is enforced on new rows already: validated, not added again.
                    column = Ledger.liveConstraint(backend.connection(), id);
                }
                if (column.isPresent()) {
                    Log.info("resuming operation " + id + " (" + operation.type() + " on " + operation.table()
                            + ") after step " + earlier.get().stepsDone() + ": " + column.get().describe()
                            + " is kept");
                    return Optional.of(new Resumable(id, earlier.get().stepsDone(), column.get(),
                            Ledger.plan(backend.connection(), id)));
                }
            }
            ObjectUndo.Report undo = ObjectUndo.undoAll(backend, observer, id, lockBudget, RetryPolicy.of(retries));
            if (undo.left().isEmpty()) {
                Ledger.state(backend.connection(), id, Ledger.State.FAILED, "settled before running again");
                return Optional.empty();
            }
            throw undoLeft(operation, id, undo, ownerWaitMs + undo.waitedMs(), "an earlier run of this request left "
                    + describe(undo.left()) + ", which could not be undone now", Map.of());
        } catch (SQLException e) {
            throw failed(e, "settling an earlier run of " + operation.type() + " on " + operation.table());
        }
    }

    private Outcome runPlan(Operation operation, Fingerprint fingerprint, Plan plan, Duration lockBudget,
                            long ownerWaitMs, Optional<Resumable> resumable) {
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
                    operation.requestJson().replace("\\u0000", "\\ufffd"), planJson(plan), fresh);
            Ledger.budget(c, id, lockBudget.toMillis());
            if (resumable.isPresent() && Ledger.madeBy(c, id, resumable.get().column().step()).isEmpty()) {
                // The ledger lost the record of the column this operation made: it is recorded again.
                Ledger.record(c, id, resumable.get().column());
            }
            restoreLostPosition(c, fingerprint, plan, id, oid);
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
                reports.add(run(step, onItsTable(step, ctx.atStep(i))));
                Ledger.stepsDone(backend.connection(), ctx.operationId(), i + 1);
            } catch (Interrupted e) {
                throw interrupted(operation, ctx, e);
            } catch (LockWaitTimedOut e) {
                Log.info("step " + (i + 1) + " of " + plan.steps().size() + " aborted: " + e.getMessage());
                throw abortOnLock(operation, ctx, withEarlierJobs(e, reports), waited(reports) + ownerWaitMs);
            } catch (SQLException | ZdmException e) {
                Optional<String> lost = ledgerLost(ctx.operationId(), e);
                if (lost.isPresent()) {
                    throw stoppedWithoutLedger(operation, fingerprint, ctx.atStep(i), lost.get(), e);
                }
                throw abort(plan, i, ctx, e);
            }
        }
        String fileAfter;
        try {
            Ledger.state(backend.connection(), ctx.operationId(), Ledger.State.DONE, null);
            fileAfter = TableProbe.heapFiles(backend.connection(), ctx.tableOid());
        } catch (SQLException e) {
            throw failed(e, "reading back " + plan.table());
        }
        return outcome(reports, started, !fileBefore.equals(fileAfter));
    }

    /**
     * A job that lost its lock race after others of the plan finished (the partitions before it): what
     * stays committed is theirs too.
     */
    private static LockWaitTimedOut withEarlierJobs(LockWaitTimedOut e, List<StepReport> reports) {
        if (reports.isEmpty() || !e.progress().containsKey("total_rows")) {
            return e;
        }
        Map<String, Object> progress = new LinkedHashMap<>(e.progress());
        progress.put("total_rows", ((Number) progress.get("total_rows")).longValue()
                + reports.stream().mapToLong(StepReport::rowsUpdated).sum());
        progress.put("batches", ((Number) progress.getOrDefault("batches", 0)).intValue()
                + reports.stream().mapToInt(StepReport::batches).sum());
        return new LockWaitTimedOut(e.getMessage(), e.waitedMs(), e.blockers(), progress, e.waitedOn());
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

    private static StepReport run(Step step, StepContext ctx) throws LockWaitTimedOut, SQLException {
        if (step instanceof Backfill b) {
            return BackfillRunner.run(b, ctx);
        }
        Statement s = (Statement) step;
        return s.transactional() ? StatementRunner.run(s, ctx) : IndexBuilder.run(s, ctx);
    }

    /** A SIGTERM stopped the operation at a safe point: nothing undone, the ledger says so (not running). */
    private ZdmException interrupted(Operation operation, StepContext ctx, Interrupted e) {
        try {
            Ledger.state(backend.connection(), ctx.operationId(), Ledger.State.FAILED, e.getMessage());
        } catch (SQLException failed) {
            Log.info("recording the interruption of operation " + ctx.operationId() + ": " + PgErrors.firstLine(failed));
        }
        return new ZdmException(e.code(), e.getMessage(), replyShape(operation, e.details()), e);
    }

    /**
     * Whether a step failed because the ledger lost the operation's rows (deleted, or schema zdm dropped
     * mid-job), rather than for a reason of its own: answers what is gone.
     */
    private Optional<String> ledgerLost(long id, Exception e) {
        if (!(e instanceof SQLException sql) || PgErrors.connectionLost(sql)) {
            return Optional.empty();
        }
        try {
            Connection c = backend.connection();
            StepContext.rollbackQuietly(c);
            if (!LedgerSchema.complete(c)) {
                ledgerReady = false;
                return Optional.of("schema zdm was dropped while it ran");
            }
            if (Ledger.get(c, id).isEmpty()) {
                return Optional.of("its row in zdm.operations (id " + id + ") was deleted while it ran");
            }
            return Optional.empty();
        } catch (SQLException failed) {
            Log.info("checking zdm's ledger after a failed step: " + PgErrors.firstLine(failed));
            return Optional.empty();
        }
    }

    /**
     * The job stopped because its ledger rows are gone: nothing is undone (zdm no longer knows by OID
     * what it made), and where a batched job stood is kept in this process, so the same request sent
     * here again resumes after the batches it committed rather than applying them twice.
     */
    private ZdmException stoppedWithoutLedger(Operation operation, Fingerprint fingerprint, StepContext ctx,
                                              String what, Exception cause) {
        Optional<Checkpoints.Written> position = Checkpoints.lastWritten(ctx.operationId(), ctx.step());
        position.ifPresent(p -> lostPositions.put(fingerprint.hex(), p));
        Map<String, Object> progress = new LinkedHashMap<>();
        position.ifPresent(p -> {
            progress.put("total_rows", p.state().rowsDone());
            progress.put("batches", p.state().batchesDone());
        });
        String where = position.map(p -> p.state().rowsDone() + " rows in " + p.state().batchesDone()
                + " batches committed; this node kept their position: the same request sent to it again remakes the"
                + " ledger and resumes after them (another node, or this one restarted, cannot know they ran and would"
                + " start from the first row)").orElse("the same request sent again remakes the ledger and starts"
                + " afresh; what this run made is not undone");
        return new ZdmException(ErrorCode.CRASH, "stopped: zdm's ledger lost this operation (" + what + "): "
                + where, replyShape(operation, progress), cause);
    }

    /** A job whose ledger rows were lost under it, sent again to this node: its position written back. */
    private void restoreLostPosition(Connection c, Fingerprint fingerprint, Plan plan, long id, long oid)
            throws SQLException {
        Checkpoints.Written lost = lostPositions.remove(fingerprint.hex());
        if (lost == null || lost.binding().tableOid() != oid || Checkpoints.latest(c, id).isPresent()) {
            return;
        }
        Checkpoints.Binding binding = new Checkpoints.Binding(id, lost.binding().step(), oid, lost.binding().attnum());
        Checkpoints.restore(c, binding, lost.state());
        Log.info("operation " + id + " (" + plan.table() + "): the position its ledger lost is written back: "
                + lost.state().rowsDone() + " rows in " + lost.state().batchesDone() + " batches done");
    }

    /**
     * A step lost its lock race: undo what the operation made, newest first, and answer 14. Waits
     * count over the whole operation (every attempt and the undo); if something could not be undone
     * the ledger holds it as undo_pending and the reply says what and that resending finishes it.
     */
    private ZdmException abortOnLock(Operation operation, StepContext ctx, LockWaitTimedOut e, long waitedBefore) {
        long id = ctx.operationId();
        Map<String, Object> progress = replyShape(operation, e.progress());
        try {
            List<MadeObject> made = Ledger.leftovers(backend.connection(), id);
            // A failed build's INVALID index was tried once already; waiting more here only delays the
            // reply, while the janitor's drop waits for the blocker without stopping the application.
            boolean onlyIndexes = made.stream().allMatch(o -> o.kind() == MadeObject.Kind.INDEX);
            ObjectUndo.Report undo = made.isEmpty() || onlyIndexes ? new ObjectUndo.Report(made, 0, Set.of())
                    : ObjectUndo.undoAll(backend, observer, id, ctx.lockBudget(), RetryPolicy.of(retries));
            long waited = waitedBefore + e.waitedMs() + undo.waitedMs();
            Set<Integer> pids = new LinkedHashSet<>(e.blockers());
            pids.addAll(undo.blockers());
            // The table whose lock was not granted: the step's own, or another it locks too (a foreign key's, a partition).
            String table = e.waitedOn() != null ? e.waitedOn() : ctx.table().value();
            if (undo.left().isEmpty()) {
                Ledger.state(backend.connection(), id, Ledger.State.FAILED, e.getMessage());
                return e.snapshotWait() ? LockBudgetExceeded.olderSnapshot(table, waited, describe(pids), progress)
                        : new LockBudgetExceeded(table, waited, describe(pids), progress);
            }
            if (undo.left().stream().allMatch(o -> o.kind() == MadeObject.Kind.INDEX)) {
                // A failed build's INVALID index: the janitor drops it, by OID, as soon as its blockers end.
                Ledger.state(backend.connection(), id, Ledger.State.UNDO_PENDING, e.getMessage());
                janitor.poke();
                return e.snapshotWait() ? LockBudgetExceeded.olderSnapshot(table, waited, describe(pids), progress)
                        : new LockBudgetExceeded(table, waited, describe(pids), progress);
            }
            return undoLeft(operation, id, new ObjectUndo.Report(undo.left(), undo.waitedMs(), pids), waited,
                    "aborted (" + e.getMessage() + ") and could not undo " + describe(undo.left()), progress);
        } catch (SQLException failed) {
            throw failed(failed, "undoing " + operation.type() + " on " + ctx.table() + " after: " + e.getMessage());
        }
    }

    /** Error 14 for an undo that is not finished: recorded as undo_pending, for the janitor and the next request. */
    private ZdmException undoLeft(Operation operation, long id, ObjectUndo.Report undo, long waited, String what,
                                  Map<String, Object> progress) throws SQLException {
        String text = what + "; recorded as undo_pending in zdm.operations (id " + id + "): sending the same request"
                + " again finishes the undo, and so does the node in the background once the blocker ends";
        Ledger.state(backend.connection(), id, Ledger.State.UNDO_PENDING, text);
        janitor.poke();
        return new LockBudgetExceeded(text, operation.table().value(), waited, describe(undo.blockers()), false,
                replyShape(operation, progress));
    }

    private static Map<String, Object> replyShape(Operation operation, Map<String, Object> progress) {
        return LockBudgetExceeded.progressOf(operation.type(), progress);
    }

    private static String describe(List<MadeObject> objects) {
        return objects.stream().map(MadeObject::describe).collect(Collectors.joining(", "));
    }

    private static long waited(List<StepReport> reports) {
        return reports.stream().mapToLong(StepReport::waitedMs).sum();
    }

    /**
     * The backends as pg_stat_activity shows them now, named by the session zdm opened on them where it
     * did; an error 14 names them.
     */
    private List<Blocker> describe(Set<Integer> pids) {
        if (pids.isEmpty()) {
            return List.of();
        }
        try {
            // A blocker gone by now is described as the observer saw it while it blocked.
            return sessions.describe(backend.connection(), pids).stream()
                    .map(b -> !"ended".equals(b.state()) ? b : observer.lastSeen(b.pid())
                            .map(s -> new Blocker(b.session(), b.pid(), s.applicationName(), "ended",
                                    s.transactionAgeMs()))
                            .orElse(b))
                    .toList();
        } catch (SQLException failed) {
            Log.info("describing the blockers " + pids + ": " + PgErrors.firstLine(failed));
            return pids.stream().map(pid -> new Blocker(null, pid, "", "unknown", 0)).toList();
        }
    }

    /** A step failed for another reason than a lock: undo what the operation made, answer what happened. */
    private ZdmException abort(Plan plan, int index, StepContext ctx, Exception e) {
        ZdmException reply = e instanceof SQLException sql ? PgErrors.toReply(sql, plan.steps().get(index).sql())
                : (ZdmException) e;
        if (e instanceof SQLException sql && PgErrors.connectionLost(sql)) {
            backend.discard();
        }
        if (reply.code() == ErrorCode.CRASH) {
            // The connection is gone: what the failed step did is unknown, so nothing is undone blindly.
            // The ledger still says running; the same request sent again settles it by OID.
            return new ZdmException(ErrorCode.CRASH, reply.getMessage() + " (step " + (index + 1) + " of "
                    + plan.steps().size() + "; the operation stays in zdm.operations: the same request sent again"
                    + " resumes it or undoes what it made)");
        }
        String suffix;
        try {
            ObjectUndo.Report undo = ObjectUndo.undoAll(backend, observer, ctx.operationId(), ctx.lockBudget(),
                    RetryPolicy.of(retries));
            if (undo.left().isEmpty()) {
                Ledger.state(backend.connection(), ctx.operationId(), Ledger.State.FAILED, reply.getMessage());
                suffix = index == 0 ? "" : "; earlier steps undone";
            } else {
                Ledger.state(backend.connection(), ctx.operationId(), Ledger.State.UNDO_PENDING, reply.getMessage());
                janitor.poke();
                suffix = "; but " + describe(undo.left()) + " could not be undone yet: it is recorded as undo_pending"
                        + " and the same request sent again finishes the undo";
            }
        } catch (SQLException failed) {
            suffix = "; undoing failed: " + PgErrors.firstLine(failed);
        }
        return new ZdmException(reply.code(), reply.getMessage() + suffix, reply.details(), e);
    }

    /** The planner's reads of the table's rows: under the budget, observed, a lost race answered as 14. */
    private <T> T guardedRead(SqlName table, String doing, PgCatalog.Query<T> query) {
        try {
            Connection c = backend.connection();
            long oid = PgCatalog.tableOid(c, table).orElseThrow(() -> ZdmException.missing("table " + table));
            return GuardedRead.run(backend, observer, oid, budget, doing, Map.of(), query::run);
        } catch (LockWaitTimedOut e) {
            throw new LockBudgetExceeded(table.value(), e.waitedMs(), describe(e.blockers()),
                    current == null ? Map.of() : replyShape(current, Map.of()));
        } catch (SQLException e) {
            throw failed(e, doing);
        }
    }

    private static String planJson(Plan plan) {
        return Json.MAPPER.valueToTree(plan.steps().stream().map(Step::sql).toList()).toString();
    }

    private static Outcome outcome(List<StepReport> reports, long startedNanos, boolean rewritten) {
        double seconds = Math.round((System.nanoTime() - startedNanos) / 1_000_000.0) / 1000.0;
        LockMode strongest = null;
        long blockingMs = 0;
        long waitedMs = 0;
        boolean locked = false;
        long rows = 0;
        int batches = 0;
        long throttledMs = 0;
        List<Map<String, Object>> steps = new ArrayList<>();
        for (StepReport r : reports) {
            strongest = LockModes.stronger(strongest, r.lock());
            blockingMs += r.blockingLockMs();
            waitedMs += r.waitedMs();
            locked |= r.lockedTable();
            rows += r.rowsUpdated();
            batches += r.batches();
            throttledMs += r.throttledMs();
            steps.add(r.asMap());
        }
        Map<String, Object> observed = new LinkedHashMap<>();
        observed.put("strongest_lock", strongest == null ? "none seen" : strongest.sqlName());
        observed.put("blocking_lock_ms", blockingMs);
        observed.put("lock_wait_ms", waitedMs);
        observed.put("throttled_ms", throttledMs);
        observed.put("steps", steps);
        return new Outcome(seconds, locked, rewritten, rows, batches, observed);
    }

    private ZdmException failed(SQLException e, String doing) {
        if (PgErrors.connectionLost(e)) {
            backend.discard();
        }
        if (PgErrors.lostLockRace(e) && current != null) {
            // The engine's own statements (the ledger's above all) wait no longer than the request's budget.
            return ledgerLocked(current, budget.toMillis(), e);
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
