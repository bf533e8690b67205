package dev.zdm.engine;

import dev.zdm.pg.CatalogView;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.ServerVersion;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Where plans run: the simulator, which predicts what PostgreSQL would do, or a real server, which is
 * observed doing it. Handlers see nothing else, so one message means the same on both.
 */
public interface Engine extends AutoCloseable {

    /** "simulator" or "postgres", for logs and explain. */
    String name();

    ServerVersion version();

    CatalogView catalog();

    /**
     * Runs the plan's steps in order. No step waits longer than {@code lockBudget} for a lock; one that
     * would is cancelled, the steps already done are undone, and a {@link LockBudgetExceeded} is thrown.
     */
    Outcome execute(Plan plan, Duration lockBudget);

    /**
     * Runs one operation: {@code planner} is asked for the plan once the engine is ready for it (the
     * PostgreSQL engine first makes the operation its own and settles what an earlier attempt left).
     */
    default Outcome run(Operation operation, Supplier<Plan> planner, Duration lockBudget) {
        return execute(planner.get(), lockBudget);
    }

    /**
     * plan: true — what the operation would do, predicted and changing nothing: no catalog, data, ledger
     * or model state of this engine. {@code planner} plans it from the catalog the prediction runs on.
     */
    Prediction predict(Operation operation, Function<Planner, Plan> planner, Duration lockBudget);

    /**
     * What a prediction of the plan rests on that the engine cannot see (data, a schema it was not
     * given), for explain; an engine that runs the plan on the real thing sees it all and has none.
     */
    default java.util.List<String> assumptions(Plan plan) {
        return java.util.List.of();
    }

    /** Where this engine keeps the migrations sent to it (the {@code migration} message). */
    Migrations migrations();

    /**
     * The operations this engine has run or runs now, for {@code status}: unfinished ones first, then
     * the newest, at most {@code limit}.
     */
    java.util.List<OperationStatus> operations(int limit);

    /** How many operations it knows in each state (running, done, failed, undo_pending). */
    java.util.Map<String, Long> operationCounts();

    /** Opens an application transaction that holds {@code spec.mode()} on its table until closed. */
    void openTransaction(AppTransaction spec);

    /** Ends it (a rollback: it only ever held a lock). Unknown sessions are error 20. */
    void closeTransaction(String session);

    @Override
    void close();
}
