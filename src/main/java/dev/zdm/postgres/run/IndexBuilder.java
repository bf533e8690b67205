package dev.zdm.postgres.run;

import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.observe.LockObserver;
import dev.zdm.Log;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Runs the statements that cannot run in a transaction block (CREATE / DROP INDEX CONCURRENTLY) in
 * autocommit under lock_timeout, retrying a lost lock race with backoff.
 *
 * <p>A CREATE INDEX CONCURRENTLY that fails at any point after its catalog entry exists leaves an
 * INVALID index that every write still maintains; so after any failure the index of that name, if
 * INVALID, is dropped with DROP INDEX CONCURRENTLY at once, or by the {@link InvalidIndexJanitor} when
 * the transaction that stopped the build stops the drop too. Observed on 17: both of CIC's waits (for
 * transactions holding locks that conflict with SHARE, e.g. an open writer, and for transactions with
 * older snapshots, e.g. any REPEATABLE READ transaction in the database) are lock waits that
 * lock_timeout cancels, and each leaves the INVALID index. An open ACCESS SHARE transaction in READ
 * COMMITTED (no snapshot held between statements) does not stop a concurrent build.
 */
public final class IndexBuilder {

    private IndexBuilder() {
    }

    public static StepReport run(dev.zdm.pg.Statement step, StepContext ctx) throws LockWaitTimedOut, SQLException {
        SqlName building = step.change() instanceof CatalogChange.CreateIndex create ? create.index() : null;
        Set<Integer> blockers = new LinkedHashSet<>();
        // The simulator retries by the same policy, so both engines agree on when a lost race is final.
        RetryPolicy policy = RetryPolicy.of(ctx.retries());
        long waitedBefore = 0;
        for (int attempt = 1; ; attempt++) {
            Connection c = ctx.backend().connection();
            StepContext.setLockTimeout(c, ctx.lockBudget());
            boolean hasRows = tableHasRows(c, ctx.table());
            LockObserver.Watch watch = ctx.observer().watch(ctx.backend().pid(), ctx.tableOid());
            long started = System.nanoTime();
            try {
                try (Statement s = c.createStatement()) {
                    s.execute(step.sql());
                }
                long ms = StepContext.millisSince(started);
                LockObserver.Observation seen = watch.stop();
                // A concurrent build reads every row of the table (twice); its lock is what the observer saw.
                // Waits of failed attempts count: the build did wait for its locks, then won the race.
                return new StepReport(step.sql(), seen.strongest(), ms, seen.blockingHeldMs(), waitedBefore + seen.waitedMs(),
                        building != null && hasRows ? -1 : 0, false, 0, 0);
            } catch (SQLException e) {
                long ms = StepContext.millisSince(started);
                LockObserver.Observation seen = watch.stop();
                blockers.addAll(seen.blockers());
                if (PgErrors.connectionLost(e)) {
                    ctx.backend().discard();
                    String left = building == null ? "" : cleanUpAfterCrash(building, ctx);
                    throw new ZdmException(ErrorCode.CRASH, "connection to PostgreSQL lost during " + step.sql()
                            + ": " + PgErrors.firstLine(e) + left);
                }
                boolean dropped = building == null || dropIfInvalid(building, ctx);
                String left = "";
                if (!dropped) {
                    ctx.janitor().drop(building);
                    left = "; the INVALID index " + building + " it left is dropped in the background once the"
                            + " transactions using " + ctx.table() + " end";
                }
                if (PgErrors.lostLockRace(e)) {
                    // Retrying makes sense only once the failed attempt's index is gone.
                    if (attempt < policy.attempts() && dropped) {
                        long backoff = policy.backoffMs(attempt);
                        waitedBefore += ms;
                        Log.info("attempt " + attempt + " of " + step.sql() + " lost its lock race ("
                                + PgErrors.firstLine(e) + "); retrying in " + backoff + " ms");
                        sleep(backoff);
                        continue;
                    }
                    throw new LockWaitTimedOut(PgErrors.firstLine(e) + " after " + attempt + " attempt(s)" + left,
                            ms, blockers, Map.of("attempts", attempt));
                }
                if (PgErrors.UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    throw ZdmException.precondition("the table has duplicate values for unique index " + building
                            + " (" + PgErrors.firstLine(e) + "); the INVALID index was " + (dropped ? "dropped" : "kept")
                            + left);
                }
                ZdmException reply = PgErrors.toReply(e, step.sql());
                throw new ZdmException(reply.code(), reply.getMessage() + left);
            }
        }
    }

    /** Drops the index if it exists and is INVALID; a valid index of that name is never touched. */
    public static boolean dropIfInvalid(SqlName index, StepContext ctx) {
        // One attempt under the budget: when it fails, the blocker is still there and the janitor waits it out.
        for (int attempt = 1; attempt <= 1; attempt++) {
            try {
                Connection c = ctx.backend().connection();
                if (!isInvalid(c, index)) {
                    return true;
                }
                StepContext.setLockTimeout(c, ctx.lockBudget());
                try (Statement s = c.createStatement()) {
                    s.execute("DROP INDEX CONCURRENTLY IF EXISTS " + index.quoted());
                }
                Log.info("dropped the INVALID index " + index + " a failed concurrent build left");
                return true;
            } catch (SQLException e) {
                if (PgErrors.connectionLost(e)) {
                    ctx.backend().discard();
                }
                Log.info("dropping the INVALID index " + index + " now: " + PgErrors.firstLine(e));
            }
        }
        return false;
    }

    private static String cleanUpAfterCrash(SqlName index, StepContext ctx) {
        if (dropIfInvalid(index, ctx)) {
            return "; no INVALID index " + index + " is left";
        }
        ctx.janitor().drop(index);
        return "; the INVALID index " + index + " is dropped in the background";
    }

    private static boolean isInvalid(Connection c, SqlName index) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(?)")) {
            ps.setString(1, index.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private static boolean tableHasRows(Connection c, SqlName table) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM " + table.quoted() + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
