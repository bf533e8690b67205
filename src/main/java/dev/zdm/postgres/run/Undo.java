package dev.zdm.postgres.run;

import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.Log;
import dev.zdm.pg.RetryPolicy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Runs one undo statement (DROP COLUMN IF EXISTS, DROP INDEX CONCURRENTLY IF EXISTS, DROP CONSTRAINT
 * IF EXISTS) in autocommit, which suits both the transactional and the concurrent kinds, under the same
 * lock budget as the migration so that undoing never stalls the application longer than doing did.
 * The blocker that aborted the plan may still be there, so it is retried with backoff.
 */
public final class Undo {

    private Undo() {
    }

    public static boolean run(String sql, StepContext ctx) {
        RetryPolicy policy = RetryPolicy.of(ctx.retries());
        for (int attempt = 1; attempt <= policy.attempts(); attempt++) {
            try {
                Connection c = ctx.backend().connection();
                StepContext.setLockTimeout(c, ctx.lockBudget());
                try (Statement s = c.createStatement()) {
                    s.execute(sql);
                }
                Log.info("undone: " + sql);
                return true;
            } catch (SQLException e) {
                if (PgErrors.connectionLost(e)) {
                    ctx.backend().discard();
                }
                Log.info("undo attempt " + attempt + " of " + sql + ": " + PgErrors.firstLine(e));
                try {
                    Thread.sleep(policy.backoffMs(attempt));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
    }
}
