package dev.zdm.engine;

import dev.zdm.pg.CatalogView;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import java.time.Duration;

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
     * As {@link #execute(Plan, Duration)}, a backfill pausing between batches as {@code throttling} says
     * (its unset values: the engine's). An engine without replicas or sessions to watch ignores it.
     */
    default Outcome execute(Plan plan, Duration lockBudget, Throttling throttling) {
        return execute(plan, lockBudget);
    }

    /** Opens an application transaction that holds {@code spec.mode()} on its table until closed. */
    void openTransaction(AppTransaction spec);

    /** Ends it (a rollback: it only ever held a lock). Unknown sessions are error 20. */
    void closeTransaction(String session);

    @Override
    void close();
}
