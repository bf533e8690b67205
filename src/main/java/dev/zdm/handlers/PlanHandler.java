package dev.zdm.handlers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engine;
import dev.zdm.engine.Operation;
import dev.zdm.engine.Outcome;
import dev.zdm.engine.Prediction;
import dev.zdm.engine.Throttling;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The shape every migration shares: read and check the whole request, plan it from the engine's
 * catalog, run the plan under the lock budget, answer from the outcome. Nothing runs before the
 * request has been checked in full.
 */
abstract class PlanHandler<S> implements Handler {

    /** A request may ask for at most an hour of lock waiting. */
    static final long MAX_LOCK_BUDGET_MS = 3_600_000;

    private final Engine engine;
    private final Duration defaultLockBudget;

    PlanHandler(Engine engine, Duration defaultLockBudget) {
        this.engine = engine;
        this.defaultLockBudget = defaultLockBudget;
    }

    /**
     * What every migration reads: schema (the table's; read by the planner where it names tables), the
     * lock budget, explain and plan, and the throttle of a backfill.
     */
    static final List<String> COMMON_FIELDS = List.of("schema", "explain", "plan", "max_lock_duration_ms",
            "max_replica_lag_ms", "max_active_sessions", "max_throttle_ms");

    /** A backfill's own: its pacing and the time one batch may take. */
    static final List<String> BACKFILL_FIELDS = List.of("sleep_ms", "batch_time_ms");

    /**
     * The place of an operation a migration runs, "position:name", which only {@link MigrationHandler}
     * adds to the body, after checking the operation's fields: a request that sends it is refused as any
     * unknown field is. The operation is then the migration's own: the same body elsewhere is another.
     */
    static final String MIGRATION_PLACE = "zdm_migration_place";

    /** The operation's own fields, besides {@link #COMMON_FIELDS}. */
    abstract List<String> ownFields();

    @Override
    public final Set<String> fields() {
        Set<String> fields = new LinkedHashSet<>(ownFields());
        fields.addAll(COMMON_FIELDS);
        return fields;
    }

    @Override
    public final ObjectNode handle(Request request) {
        boolean explain = request.bool("explain", false);
        Duration budget = Duration.ofMillis(request.integer("max_lock_duration_ms", 1, MAX_LOCK_BUDGET_MS,
                defaultLockBudget.toMillis()));
        boolean planOnly = request.bool("plan", false);
        S spec = parse(request);
        Operation operation = new Operation(type(), table(spec), placed(request, identity(spec)), request.body().toString(),
                throttling(request));
        if (planOnly) {
            Prediction prediction = engine.predict(operation, planner -> plan(spec, planner), budget);
            return PlanReply.of(request, prediction, reply(request, spec, prediction.outcome()).body());
        }
        Plan[] planned = new Plan[1];
        Outcome outcome = engine.run(operation,
                () -> planned[0] = plan(spec, new Planner(engine.version(), engine.catalog())), budget);
        Plan plan = planned[0];
        Reply reply = reply(request, spec, outcome);
        if (explain) {
            reply.put("steps", Explain.steps(plan));
            var assumptions = engine.assumptions(plan);
            if (!assumptions.isEmpty()) {
                reply.put("assumptions", assumptions);
            }
            if (!outcome.observed().isEmpty()) {
                reply.put("observed", outcome.observed());
            }
        }
        return reply.body();
    }

    @Override
    public final void check(Request request) {
        request.bool("explain", false);
        request.integer("max_lock_duration_ms", 1, MAX_LOCK_BUDGET_MS, defaultLockBudget.toMillis());
        parse(request);
        throttling(request);
    }

    @Override
    public final java.util.Optional<Operation> operation(Request request) {
        S spec = parse(request);
        return java.util.Optional.of(new Operation(type(), table(spec), placed(request, identity(spec)), request.body().toString(),
                throttling(request)));
    }

    /**
     * The table a request names: {@code table}, in {@code schema} when it gives one, else the one the
     * connection's search_path finds. Both are exact identifiers (any case, quoted in SQL).
     */
    static SqlName tableOf(Request request, CatalogView catalog) {
        String schema = request.has("schema") ? request.string("schema") : null;
        return dev.zdm.pg.SystemSchemas.requireUserTable(
                catalog.resolve(SqlName.table(schema, request.string("table"))), catalog);
    }

    SqlName tableOf(Request request) {
        return tableOf(request, engine.catalog());
    }

    /** The request's own throttle settings; what it leaves out is the node's. */
    private static Throttling throttling(Request request) {
        Long lag = request.integer("max_replica_lag_ms", 1, 86_400_000, null);
        Long sessions = request.integer("max_active_sessions", 0, 100_000, null);
        Long max = request.integer("max_throttle_ms", 1, 86_400_000, null);
        Long batchTime = request.integer("batch_time_ms", 1, MAX_LOCK_BUDGET_MS, null);
        return new Throttling(lag == null ? null : Duration.ofMillis(lag), sessions == null ? null : sessions.intValue(),
                max == null ? null : Duration.ofMillis(max), batchTime == null ? null : Duration.ofMillis(batchTime));
    }

    /** Reads and checks the request's fields (error 12). */
    abstract S parse(Request request);

    /** Plans it against the catalog (errors 20, 21, 22), before anything has run. */
    abstract Plan plan(S spec, Planner planner);

    abstract SqlName table(S spec);

    /**
     * What the request changes, normalized (defaults applied, no pacing or budget), so the same request
     * sent again is recognized as the same operation.
     */
    String identity(S spec) {
        return type() + ":" + spec;
    }

    private static String placed(Request request, String identity) {
        return request.has(MIGRATION_PLACE) ? "migration " + request.string(MIGRATION_PLACE) + ":" + identity : identity;
    }

    abstract Reply reply(Request request, S spec, Outcome outcome);
}
