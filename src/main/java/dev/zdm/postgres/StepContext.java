package dev.zdm.postgres;

import dev.zdm.engine.Throttling;
import dev.zdm.pg.SqlName;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/** What every step runner needs: the migration's connection, the observer, the table, the budget and when a backfill pauses. */
record StepContext(SqlName table, Backend backend, LockObserver observer, InvalidIndexJanitor janitor, long tableOid, Duration lockBudget, int retries,
                   Throttling throttling) {

    /**
     * lock_timeout for the session. 0 would mean "wait forever" to PostgreSQL, so a budget of 0 ms
     * becomes 1 ms: take the lock now or give up.
     */
    static void setLockTimeout(Connection c, Duration budget) throws SQLException {
        long ms = Math.max(1, budget.toMillis());
        try (Statement s = c.createStatement()) {
            s.execute("SET lock_timeout = " + ms);
        }
    }

    static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    static void rollbackQuietly(Connection c) {
        try {
            if (!c.isClosed() && !c.getAutoCommit()) {
                c.rollback();
            }
        } catch (SQLException ignored) {
            // A broken connection has nothing to roll back; the server rolls back when it goes.
        }
    }

    static void autocommitQuietly(Connection c) {
        try {
            if (!c.isClosed()) {
                c.setAutoCommit(true);
            }
        } catch (SQLException ignored) {
            // Discarded with the connection.
        }
    }
}
