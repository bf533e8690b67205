package dev.zdm.postgres.run;

import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.observe.LockObserver;
import dev.zdm.engine.Throttling;
import dev.zdm.pg.SqlName;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * What every step runner needs: the migration's connection, the observer, the table and the budget,
 * when a backfill pauses ({@code throttling}), and where it stands in the ledger: the operation's row
 * and the index of the step running.
 */
public record StepContext(SqlName table, Backend backend, LockObserver observer, long tableOid, Duration lockBudget,
                          int retries, Throttling throttling, long operationId, int step) {

    /** The same context for step {@code index} (0-based) of the plan. */
    public StepContext atStep(int index) {
        return new StepContext(table, backend, observer, tableOid, lockBudget, retries, throttling, operationId, index);
    }

    /** The same context on another table: a step of the plan on a partition of the operation's table. */
    public StepContext on(SqlName otherTable, long otherOid) {
        return new StepContext(otherTable, backend, observer, otherOid, lockBudget, retries, throttling, operationId, step);
    }

    /**
     * lock_timeout for the session. 0 would mean "wait forever" to PostgreSQL, so a budget of 0 ms
     * becomes 1 ms: take the lock now or give up.
     */
    public static void setLockTimeout(Connection c, Duration budget) throws SQLException {
        long ms = Math.max(1, budget.toMillis());
        try (Statement s = c.createStatement()) {
            s.execute("SET lock_timeout = " + ms);
        }
    }

    public static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    public static void rollbackQuietly(Connection c) {
        try {
            if (!c.isClosed() && !c.getAutoCommit()) {
                c.rollback();
            }
        } catch (SQLException ignored) {
            // A broken connection has nothing to roll back; the server rolls back when it goes.
        }
    }

    public static void autocommitQuietly(Connection c) {
        try {
            if (!c.isClosed()) {
                c.setAutoCommit(true);
            }
        } catch (SQLException ignored) {
            // Discarded with the connection.
        }
    }
}
