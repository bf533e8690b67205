package dev.zdm.postgres;

import dev.zdm.Log;
import dev.zdm.config.Config;
import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Blocker;
import dev.zdm.engine.Engine;
import dev.zdm.engine.Engines;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Outcome;
import dev.zdm.engine.Throttling;
import dev.zdm.pg.Backfill;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.Statement;
import dev.zdm.pg.Step;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

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
    private final InvalidIndexJanitor janitor;
    private final PgCatalog catalog;
    private final ServerVersion version;
    private final int retries;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Throttling throttleDefaults = Throttling.NONE;

    private PostgresEngine(Database database, EmbeddedServer embedded, int retries) throws SQLException {
        this.database = database;
        this.embedded = embedded;
        this.retries = retries;
        this.backend = new Backend(database, "zdm-migration");
        this.observer = new LockObserver(database);
        this.sessions = new AppSessions(database);
        this.janitor = new InvalidIndexJanitor(database);
        this.catalog = new PgCatalog(backend);
        this.version = serverVersion(backend.connection());
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
        PostgresEngine engine = connect(database, embedded, config.retries());
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
        return connect(database, null, retries);
    }

    private static PostgresEngine connect(Database database, EmbeddedServer embedded, int retries)
            throws Engines.StartFailed {
        try {
            PostgresEngine engine = new PostgresEngine(database, embedded, retries);
            Runtime.getRuntime().addShutdownHook(new Thread(engine::close, "zdm-postgres-shutdown"));
            return engine;
        } catch (SQLException e) {
            if (embedded != null) {
                embedded.close();
            }
            throw new Engines.StartFailed("cannot reach PostgreSQL at " + database + ": " + PgErrors.firstLine(e), e);
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
        return catalog;
    }

    /** Where this engine connects; tests and tools use it to open their own connections. */
    public Database database() {
        return database;
    }

    /** The node's throttle settings: what a request leaves unset. */
    public void throttleDefaults(Throttling defaults) {
        this.throttleDefaults = defaults;
    }

    @Override
    public Outcome execute(Plan plan, Duration lockBudget) {
        return execute(plan, lockBudget, Throttling.UNSET);
    }

    @Override
    public synchronized Outcome execute(Plan plan, Duration lockBudget, Throttling throttling) {
        long started = System.nanoTime();
        StepContext ctx;
        long fileBefore;
        try {
            Connection c = backend.connection();
            long oid = PgCatalog.tableOid(c, plan.table())
                    .orElseThrow(() -> ZdmException.missing("table " + plan.table()));
            ctx = new StepContext(plan.table(), backend, observer, janitor, oid, lockBudget, retries,
                    throttling.over(throttleDefaults));
            fileBefore = TableProbe.relfilenode(c, oid);
        } catch (SQLException e) {
            throw failed(e, "preparing to run on " + plan.table());
        }
        List<StepReport> reports = new ArrayList<>();
        List<Statement> committed = new ArrayList<>();
        for (int i = 0; i < plan.steps().size(); i++) {
            Step step = plan.steps().get(i);
            try {
                reports.add(run(step, ctx));
                if (step instanceof Statement s) {
                    committed.add(s);
                }
            } catch (LockWaitTimedOut e) {
                Log.info("step " + (i + 1) + " of " + plan.steps().size() + " aborted: " + e.getMessage());
                String undoFailure = undo(committed, ctx);
                forgetJobs(plan);
                if (undoFailure != null) {
                    throw new ZdmException(ErrorCode.CRASH, "aborted (" + e.getMessage() + ") but " + undoFailure);
                }
                Map<String, Object> progress = committed.isEmpty() ? e.progress() : Map.of();
                throw new LockBudgetExceeded(plan.table().value(), e.waitedMs(), blockers(e), progress);
            } catch (SQLException | ZdmException e) {
                throw abort(plan, i, committed, ctx, e);
            }
        }
        forgetJobs(plan);
        long fileAfter;
        try {
            fileAfter = TableProbe.relfilenode(backend.connection(), ctx.tableOid());
        } catch (SQLException e) {
            throw failed(e, "reading back " + plan.table());
        }
        return outcome(reports, started, fileBefore != fileAfter);
    }

    private static StepReport run(Step step, StepContext ctx) throws LockWaitTimedOut, SQLException {
        if (step instanceof Backfill b) {
            return BackfillRunner.run(b, ctx);
        }
        Statement s = (Statement) step;
        return s.transactional() ? StatementRunner.run(s, ctx) : IndexBuilder.run(s, ctx);
    }

    private List<Blocker> blockers(LockWaitTimedOut e) {
        try {
            return sessions.describe(backend.connection(), e.blockers());
        } catch (SQLException failed) {
            Log.info("describing the blockers " + e.blockers() + ": " + PgErrors.firstLine(failed));
            return e.blockers().stream().map(pid -> new Blocker(null, pid, "", "unknown", 0)).toList();
        }
    }

    /** A step failed for another reason than a lock: undo what committed, answer what happened. */
    private ZdmException abort(Plan plan, int index, List<Statement> committed, StepContext ctx, Exception e) {
        ZdmException reply = e instanceof SQLException sql ? PgErrors.toReply(sql, plan.steps().get(index).sql())
                : (ZdmException) e;
        if (e instanceof SQLException sql && PgErrors.connectionLost(sql)) {
            backend.discard();
        }
        if (reply.code() == ErrorCode.CRASH) {
            // The connection is gone: what the failed step did is unknown, so nothing is undone blindly.
            return new ZdmException(ErrorCode.CRASH, reply.getMessage() + " (step " + (index + 1) + " of "
                    + plan.steps().size() + "; " + (committed.isEmpty() ? "no earlier step had committed"
                    : committed.size() + " earlier step(s) committed: " + committed.stream().map(Statement::sql).toList())
                    + "; the next request reconnects)");
        }
        String undoFailure = undo(committed, ctx);
        forgetJobs(plan);
        String suffix = committed.isEmpty() ? "" : undoFailure == null ? "; earlier steps undone" : "; but " + undoFailure;
        return new ZdmException(reply.code(), reply.getMessage() + suffix, reply.details(), e);
    }

    /** Takes back the committed statements, newest first; answers null or what could not be undone. */
    private String undo(List<Statement> committed, StepContext ctx) {
        List<String> failures = new ArrayList<>();
        for (int i = committed.size() - 1; i >= 0; i--) {
            String sql = committed.get(i).undoSql();
            if (sql != null && !Undo.run(sql, ctx)) {
                failures.add(sql);
            }
        }
        return failures.isEmpty() ? null : "undoing failed for " + failures + "; those changes remain";
    }

    /**
     * A backfill inside a larger plan (add_column's safe path) is bound to that plan's column: once the
     * plan has ended, done or undone, its checkpoint must not make a later run skip the work.
     */
    private void forgetJobs(Plan plan) {
        if (plan.steps().size() < 2) {
            return;
        }
        for (Step step : plan.steps()) {
            if (step instanceof Backfill b) {
                try {
                    Connection c = backend.connection();
                    Checkpoints.ensureTable(c);
                    Checkpoints.forget(c, b.jobKey());
                } catch (SQLException e) {
                    Log.info("forgetting checkpoint " + b.jobKey() + ": " + PgErrors.firstLine(e));
                }
            }
        }
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
        return PgErrors.toReply(e, doing);
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
