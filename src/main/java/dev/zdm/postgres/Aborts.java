package dev.zdm.postgres;

import dev.zdm.Log;
import dev.zdm.engine.Interrupted;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Operation;
import dev.zdm.pg.Plan;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import dev.zdm.postgres.observe.LockObserver;
import dev.zdm.postgres.run.LockWaitTimedOut;
import dev.zdm.postgres.run.ObjectUndo;
import dev.zdm.postgres.run.StepContext;
import dev.zdm.postgres.run.UndoJanitor;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.SQLException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A plan that stopped: what the operation made undone (or left to the janitor as undo_pending), the
 * ledger told, and the reply that says what happened and what is left.
 */
final class Aborts {

    private final Backend backend;
    private final LockObserver observer;
    private final UndoJanitor janitor;
    private final BlockerNames blockers;
    private final int retries;
    private final SqlFailure failure;

    Aborts(Backend backend, LockObserver observer, UndoJanitor janitor, BlockerNames blockers, int retries,
           SqlFailure failure) {
        this.backend = backend;
        this.observer = observer;
        this.janitor = janitor;
        this.blockers = blockers;
        this.retries = retries;
        this.failure = failure;
    }

    /** A SIGTERM stopped the operation at a safe point: nothing undone, the ledger says so (not running). */
    ZdmException interrupted(Operation operation, StepContext ctx, Interrupted e) {
        try {
            Ledger.state(backend.connection(), ctx.operationId(), Ledger.State.FAILED, e.getMessage());
        } catch (SQLException failed) {
            Log.info("recording the interruption of operation " + ctx.operationId() + ": " + PgErrors.firstLine(failed));
        }
        return new ZdmException(e.code(), e.getMessage(), replyShape(operation, e.details()), e);
    }

    /**
     * A step lost its lock race: undo what the operation made, newest first, and answer 14. Waits
     * count over the whole operation (every attempt and the undo); if something could not be undone
     * the ledger holds it as undo_pending and the reply says what and that resending finishes it.
     */
    ZdmException onLock(Operation operation, Plan plan, StepContext ctx, LockWaitTimedOut e, long waitedBefore) {
        long id = ctx.operationId();
        Map<String, Object> progress = replyShape(operation, e.progress());
        try {
            java.util.OptionalInt resumeAt = plan.keptOnLockLoss(ctx.step());
            if (resumeAt.isPresent()) {
                return keptFill(operation, plan, ctx, e, waitedBefore, resumeAt.getAsInt(), progress);
            }
            List<MadeObject> made = Ledger.leftovers(backend.connection(), id);
            // A failed build's INVALID index was tried once already; waiting more here only delays the
            // reply; the janitor retries the drop between requests, never waiting while it holds the table.
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
                return e.snapshotWait() ? LockBudgetExceeded.olderSnapshot(table, waited, blockers.describe(pids), progress)
                        : new LockBudgetExceeded(table, waited, blockers.describe(pids), progress);
            }
            if (undo.left().stream().allMatch(o -> o.kind() == MadeObject.Kind.INDEX)) {
                // A failed build's INVALID index: the janitor drops it, by OID, once its blockers have ended.
                Ledger.state(backend.connection(), id, Ledger.State.UNDO_PENDING, e.getMessage());
                janitor.poke();
                return e.snapshotWait() ? LockBudgetExceeded.olderSnapshot(table, waited, blockers.describe(pids), progress)
                        : new LockBudgetExceeded(table, waited, blockers.describe(pids), progress);
            }
            return undoLeft(operation, id, new ObjectUndo.Report(undo.left(), undo.waitedMs(), pids), waited,
                    "aborted (" + e.getMessage() + ") and could not undo " + describe(undo.left()), progress);
        } catch (SQLException failed) {
            throw failure.failed(failed, "undoing " + operation.type() + " on " + ctx.table() + " after: " + e.getMessage());
        }
    }

    /**
     * A step after an add_column's backfill lost its lock race: the filled column stays (nullable, its
     * default serving new rows) and so do its batches; what the NOT NULL steps made is undone if it can
     * be, and the ledger row (failed, not undo_pending) tells the same request sent again to go on from
     * there, so it neither drops the column behind the same blocker nor fills every row again.
     */
    private ZdmException keptFill(Operation operation, Plan plan, StepContext ctx, LockWaitTimedOut e, long waitedBefore,
                                  int resumeAt, Map<String, Object> progress) throws SQLException {
        long id = ctx.operationId();
        ObjectUndo.Report undo = ObjectUndo.undoFrom(backend, observer, id, ctx.lockBudget(), RetryPolicy.of(retries),
                resumeAt);
        long waited = waitedBefore + e.waitedMs() + undo.waitedMs();
        Set<Integer> pids = new LinkedHashSet<>(e.blockers());
        pids.addAll(undo.blockers());
        String column = Ledger.leftovers(backend.connection(), id).stream()
                .filter(o -> o.kind() == MadeObject.Kind.COLUMN).findFirst().map(MadeObject::describe)
                .orElse("the column");
        int from = undo.left().isEmpty() ? resumeAt : ctx.step();
        Ledger.stepsDone(backend.connection(), id, from);
        String text = "aborted (" + e.getMessage() + ") at step " + (ctx.step() + 1) + " of " + plan.steps().size()
                + ", after the backfill: " + column + " and its backfill are kept (the column nullable, its default"
                + " serving new rows)" + (undo.left().isEmpty() ? "" : ", and so is " + describe(undo.left()))
                + "; recorded in zdm.operations (id " + id + "): sending the same request again continues at step "
                + (from + 1) + " (the NOT NULL steps) without filling the rows again";
        Ledger.state(backend.connection(), id, Ledger.State.FAILED, text);
        String table = e.waitedOn() != null ? e.waitedOn() : ctx.table().value();
        return new LockBudgetExceeded(text, table, waited, blockers.describe(pids), false, progress);
    }

    /** Error 14 for an undo that is not finished: recorded as undo_pending, for the janitor and the next request. */
    ZdmException undoLeft(Operation operation, long id, ObjectUndo.Report undo, long waited, String what,
                          Map<String, Object> progress) throws SQLException {
        String text = what + "; recorded as undo_pending in zdm.operations (id " + id + "): sending the same request"
                + " again finishes the undo, and so does the node in the background once the blocker ends";
        Ledger.state(backend.connection(), id, Ledger.State.UNDO_PENDING, text);
        janitor.poke();
        return new LockBudgetExceeded(text, operation.table().value(), waited, blockers.describe(undo.blockers()), false,
                replyShape(operation, progress));
    }

    /** A step failed for another reason than a lock: undo what the operation made, answer what happened. */
    ZdmException onFailure(Plan plan, int index, int resumedAt, StepContext ctx, Exception e) {
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
            int undoneFrom = plan.undoneFrom(resumedAt);
            if (undoneFrom > 0) {
                return keptAfterFailure(plan, index, undoneFrom, ctx, reply, e);
            }
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

    /**
     * A resumed run failed: what earlier requests made (the column, filled, which the application may
     * have written since) stays; only what this run made is undone. The ledger row stays failed (never
     * undo_pending, which would drop the column), at the step the same request sent again goes on from.
     */
    private ZdmException keptAfterFailure(Plan plan, int index, int undoneFrom, StepContext ctx, ZdmException reply,
                                          Exception e) throws SQLException {
        long id = ctx.operationId();
        List<MadeObject> kept = Ledger.leftovers(backend.connection(), id).stream()
                .filter(o -> o.step() < undoneFrom).toList();
        ObjectUndo.Report undo = ObjectUndo.undoFrom(backend, observer, id, ctx.lockBudget(), RetryPolicy.of(retries),
                undoneFrom);
        int from = undo.left().isEmpty() ? undoneFrom : index;
        Ledger.stepsDone(backend.connection(), id, from);
        // 23514 a CHECK (col IS NOT NULL) violated, 23502 a NOT NULL constraint (PostgreSQL 18's NOT VALID one).
        String nulls = e instanceof SQLException sql && Set.of("23514", "23502").contains(sql.getSQLState())
                ? kept.stream().filter(o -> o.kind() == MadeObject.Kind.COLUMN).findFirst()
                        .map(o -> "; some row has " + o.name() + " NULL (written since the backfill)").orElse("")
                : "";
        String text = reply.getMessage() + nulls + "; " + (kept.isEmpty() ? "what an earlier run made" : describe(kept))
                + " kept, with its values: an earlier run of this request made it, so only what this run made is undone"
                + (undo.left().isEmpty() ? "" : " (" + describe(undo.left()) + " could not be dropped now and stays)")
                + "; recorded in zdm.operations (id " + id + "): sending the same request again continues at step "
                + (from + 1) + " of " + plan.steps().size();
        Ledger.state(backend.connection(), id, Ledger.State.FAILED, text);
        return new ZdmException(reply.code(), text, reply.details(), e);
    }

    static Map<String, Object> replyShape(Operation operation, Map<String, Object> progress) {
        return LockBudgetExceeded.progressOf(operation.type(), progress);
    }

    static String describe(List<MadeObject> objects) {
        return objects.stream().map(MadeObject::describe).collect(Collectors.joining(", "));
    }
}
