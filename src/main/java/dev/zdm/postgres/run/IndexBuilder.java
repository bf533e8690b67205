package dev.zdm.postgres.run;

import dev.zdm.Log;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.SqlName;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import dev.zdm.postgres.observe.LockObserver;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Runs the statements that cannot run in a transaction block (CREATE / DROP INDEX CONCURRENTLY) in
 * autocommit under lock_timeout, retrying a lost lock race with backoff.
 *
 * <p>A CREATE INDEX CONCURRENTLY that fails at any point after its catalog entry exists leaves an
 * INVALID index that every write still maintains. Its OID is in the ledger from the moment it exists
 * ({@link IndexOidCatcher}); after any failure that index, if it is still that OID and still INVALID,
 * is dropped at once with DROP INDEX CONCURRENTLY, or else stays in the ledger for the
 * {@link UndoJanitor} and the next request. Observed on 17: both of CIC's waits (for transactions
 * holding locks that conflict with SHARE, e.g. an open writer, and for transactions with older
 * snapshots, e.g. any REPEATABLE READ transaction in the database) are lock waits that lock_timeout
 * cancels, and each leaves the INVALID index. An open ACCESS SHARE transaction in READ COMMITTED (no
 * snapshot held between statements) does not stop a concurrent build.
 */
public final class IndexBuilder {

    /** duplicate_table: the name was taken meanwhile, by an index that is not this build's. */
    private static final String DUPLICATE_NAME = "42P07";

    private IndexBuilder() {
    }

    public static StepReport run(dev.zdm.pg.Statement step, StepContext ctx) throws LockWaitTimedOut, SQLException {
        SqlName building = step.change() instanceof CatalogChange.CreateIndex create ? create.index() : null;
        SqlName leftover = step.change() instanceof CatalogChange.DropIndex drop ? drop.index() : null;
        Set<Integer> blockers = new LinkedHashSet<>();
        // The simulator retries by the same policy, so both engines agree on when a lost race is final.
        RetryPolicy policy = RetryPolicy.of(ctx.retries());
        long waitedBefore = 0;
        for (int attempt = 1; ; attempt++) {
            boolean hasRows;
            try {
                hasRows = GuardedRead.run(ctx.backend(), ctx.observer(), ctx.tableOid(), ctx.lockBudget(),
                        "checking whether " + ctx.table() + " has rows", Map.of("attempts", attempt),
                        c -> tableHasRows(c, ctx.table()));
            } catch (LockWaitTimedOut e) {
                blockers.addAll(e.blockers());
                throw new LockWaitTimedOut(e.getMessage(), waitedBefore + e.waitedMs(), blockers, e.progress(), e.waitedOn());
            }
            Connection c = ctx.backend().connection();
            StepContext.setLockTimeout(c, ctx.lockBudget());
            LockObserver.Watch watch = ctx.observer().watch(ctx.backend().pid(), ctx.tableOid());
            IndexOidCatcher catcher = building == null ? null : IndexOidCatcher.start(ctx, building);
            long started = System.nanoTime();
            try {
                if (leftover != null) {
                    dropLeftover(c, ctx, leftover);
                } else {
                    try (Statement s = c.createStatement()) {
                        s.execute(step.sql());
                    }
                }
                long ms = StepContext.millisSince(started);
                LockObserver.Observation seen = watch.stop();
                if (building != null) {
                    closeQuietly(catcher);
                    recordBuilt(c, ctx, building);
                }
                // A concurrent build reads every row of the table (twice); its lock is what the observer saw.
                // Waits of failed attempts count: the build did wait for its locks, then won the race.
                return new StepReport(step.sql(), seen.strongest(), ms, seen.blockingHeldMs(), waitedBefore + seen.waitedMs(),
                        building != null && hasRows ? -1 : 0, false, 0, 0);
            } catch (SQLException e) {
                long ms = StepContext.millisSince(started);
                LockObserver.Observation seen = watch.stop();
                closeQuietly(catcher);
                blockers.addAll(seen.blockers());
                if (PgErrors.connectionLost(e)) {
                    ctx.backend().discard();
                    String left = building == null ? "" : cleanUpAfterCrash(building, ctx);
                    throw new ZdmException(ErrorCode.CRASH, "connection to PostgreSQL lost during " + step.sql()
                            + ": " + PgErrors.firstLine(e) + left);
                }
                if (building != null && !DUPLICATE_NAME.equals(e.getSQLState())) {
                    // A build that failed within the catcher's first poll: the index of that name is the
                    // one it made (the plan ran because the name was free or only an INVALID leftover's).
                    recordBuilt(ctx.backend().connection(), ctx, building);
                }
                boolean dropped = building == null || dropOwnInvalid(building, ctx);
                String left = "";
                if (!dropped) {
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
                            waitedBefore + ms, blockers, Map.of("attempts", attempt),
                            // CIC waits for the writers' virtual transaction ids, no relation: the table is its own
                            // (a partition's, in a partitioned build), not the operation's.
                            seen.waitedOn() != null ? seen.waitedOn() : ctx.table().value(),
                            seen.waitedOn() == null && seen.snapshotWait());
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

    /**
     * The plan's own "drop the INVALID leftover first" step: the index of that name on the table, by the
     * OID it has now and only while that OID is still INVALID (a valid index of that name is kept).
     */
    private static void dropLeftover(Connection c, StepContext ctx, SqlName index) throws SQLException {
        Optional<Long> oid = MadeObjects.indexOid(c, ctx.tableOid(), index);
        if (oid.isPresent()) {
            ObjectUndo.Result result = ObjectUndo.dropIndexIfInvalid(c, oid.get());
            Log.info("INVALID leftover " + index + " (oid " + oid.get() + "): " + result.name().toLowerCase());
        }
    }

    private static void recordBuilt(Connection c, StepContext ctx, SqlName index) throws SQLException {
        Optional<Long> oid = MadeObjects.indexOid(c, ctx.tableOid(), index);
        if (oid.isPresent()) {
            Ledger.record(c, ctx.operationId(), MadeObject.index(ctx.step(), index.value(), ctx.tableOid(), oid.get()));
        }
    }

    /**
     * Drops the INVALID index this build left, by the OID the ledger holds for it; a valid index, or
     * one with another OID, is never touched. Answers whether nothing of the build is left.
     */
    static boolean dropOwnInvalid(SqlName index, StepContext ctx) {
        try {
            Connection c = ctx.backend().connection();
            Optional<MadeObject> made = Ledger.madeBy(c, ctx.operationId(), ctx.step());
            if (made.isEmpty()) {
                // The build failed before its catalog entry existed: nothing was made.
                return true;
            }
            // One attempt under the budget: when it fails, the blocker is still there and the janitor waits it out.
            StepContext.setLockTimeout(c, ctx.lockBudget());
            ObjectUndo.Result result = ObjectUndo.dropIndexIfInvalid(c, made.get().oid());
            Ledger.undone(c, ctx.operationId(), ctx.step());
            Log.info("the index " + made.get().describe() + " a failed concurrent build left: "
                    + result.name().toLowerCase().replace('_', ' '));
            return true;
        } catch (SQLException e) {
            if (PgErrors.connectionLost(e)) {
                ctx.backend().discard();
            }
            Log.info("dropping the INVALID index " + index + " now: " + PgErrors.firstLine(e));
            return false;
        }
    }

    private static String cleanUpAfterCrash(SqlName index, StepContext ctx) {
        if (dropOwnInvalid(index, ctx)) {
            return "; no INVALID index " + index + " is left";
        }
        return "; the INVALID index " + index + " is in the ledger: the same request drops it and builds again";
    }

    private static boolean tableHasRows(Connection c, SqlName table) throws SQLException {
        try (Statement s = c.createStatement();
             // ONLY: a build on an inheritance parent reads its own rows, and must not wait on a held child.
             ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM ONLY " + table.quoted() + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static void closeQuietly(IndexOidCatcher catcher) {
        if (catcher != null) {
            catcher.close();
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
