package dev.zdm.postgres;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.Log;
import dev.zdm.engine.Operation;
import dev.zdm.pg.Plan;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Step;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Checkpoints;
import dev.zdm.postgres.ledger.Fingerprint;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import dev.zdm.postgres.observe.LockObserver;
import dev.zdm.postgres.observe.PgCatalog;
import dev.zdm.postgres.run.ObjectUndo;
import dev.zdm.postgres.run.PartitionedIndexResume;
import dev.zdm.postgres.run.StepContext;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What an earlier run of the same operation left: undone first, or resumed where it stopped (its column,
 * its constraint, its index, its batches), and where a job stood when the ledger lost its rows, kept in
 * this process so the same request sent here again resumes there.
 */
final class EarlierRuns {

    /**
     * An earlier run of the same add_column that left its column: the step to go on from, the column,
     * the plan it started with (null: the ledger lost it, and this node remembers only the column). Or
     * an earlier run of the same create_index whose index the server finished building: nothing is left
     * to run, and {@code column} is that index.
     */
    record Resumable(long id, int stepsDone, MadeObject column, String plan) {
    }

    private final Backend backend;
    private final LockObserver observer;
    private final ResumedColumnView planned;
    private final Aborts aborts;
    private final int retries;
    private final SqlFailure failure;
    /**
     * Where jobs stood when the ledger lost their rows (deleted, or schema zdm dropped), by fingerprint:
     * the same request sent to this node again resumes there. Only this process knows it.
     */
    private final Map<String, Checkpoints.Written> lostPositions = new HashMap<>();

    EarlierRuns(Backend backend, LockObserver observer, ResumedColumnView planned, Aborts aborts, int retries,
                SqlFailure failure) {
        this.backend = backend;
        this.observer = observer;
        this.planned = planned;
        this.aborts = aborts;
        this.retries = retries;
        this.failure = failure;
    }

    /**
     * An earlier run of this operation that did not finish (failed, crashed, or left an undo pending)
     * is undone first, by OID, so the plan starts from a clean table: never error 21 for zdm's own
     * half-made column. A batched job makes nothing and is resumed instead (its checkpoint).
     */
    Optional<Resumable> settle(Operation operation, Fingerprint fingerprint, Duration lockBudget, long ownerWaitMs) {
        try {
            Optional<Ledger.Entry> earlier = Ledger.find(backend.connection(), fingerprint);
            if (earlier.isEmpty()) {
                return columnTheLedgerLost(operation, fingerprint);
            }
            if (earlier.get().state() == Ledger.State.DONE) {
                return Optional.empty();
            }
            long id = earlier.get().id();
            if ("create_index".equals(operation.type())) {
                // A node killed mid-build: its backend finishes the concurrent build all the same. The
                // VALID index this operation recorded is its own work done, not another's name (21).
                Optional<MadeObject> built = Ledger.builtIndex(backend.connection(), id, earlier.get().tableOid());
                if (built.isPresent()) {
                    Log.info("operation " + id + " (" + operation.type() + " on " + operation.table() + "): "
                            + built.get().describe() + " is VALID, built by its earlier run; nothing left to run");
                    return Optional.of(new Resumable(id, earlier.get().stepsDone(), built.get(), null));
                }
            }
            if ("create_index".equals(operation.type()) && earlier.get().state() != Ledger.State.UNDO_PENDING
                    && PartitionedIndexResume.settle(backend, id, earlier.get().tableOid(), lockBudget)) {
                return Optional.empty();
            }
            if (earlier.get().state() != Ledger.State.UNDO_PENDING) {
                // A crashed or interrupted run's column is live: the application may have written it, read
                // its values, handed them out. Resumed, never dropped and made again.
                Optional<MadeObject> column = Ledger.liveColumn(backend.connection(), id);
                if (column.isEmpty()) {
                    // A constraint committed NOT VALID is enforced on new rows already: validated, not added again.
                    column = Ledger.liveConstraint(backend.connection(), id);
                }
                if (column.isPresent()) {
                    Log.info("resuming operation " + id + " (" + operation.type() + " on " + operation.table()
                            + ") after step " + earlier.get().stepsDone() + ": " + column.get().describe()
                            + " is kept");
                    return Optional.of(new Resumable(id, earlier.get().stepsDone(), column.get(),
                            Ledger.plan(backend.connection(), id)));
                }
            }
            ObjectUndo.Report undo = ObjectUndo.undoAll(backend, observer, id, lockBudget, RetryPolicy.of(retries));
            if (undo.left().isEmpty()) {
                Ledger.state(backend.connection(), id, Ledger.State.FAILED, "settled before running again");
                return Optional.empty();
            }
            throw aborts.undoLeft(operation, id, undo, ownerWaitMs + undo.waitedMs(), "an earlier run of this request left "
                    + Aborts.describe(undo.left()) + ", which could not be undone now", Map.of());
        } catch (SQLException e) {
            throw failure.failed(e, "settling an earlier run of " + operation.type() + " on " + operation.table());
        }
    }

    /**
     * The column of an add_column this node was running when the ledger lost its rows, if it is still
     * there (same table, attnum and name): resumed as if the ledger had kept it.
     */
    private Optional<Resumable> columnTheLedgerLost(Operation operation, Fingerprint fingerprint) throws SQLException {
        Checkpoints.Written lost = lostPositions.get(fingerprint.hex());
        if (lost == null || lost.binding().attnum() == null) {
            return Optional.empty();
        }
        String column = requestedColumn(operation);
        if (!Ledger.columnAt(backend.connection(), lost.binding().tableOid(), lost.binding().attnum(), column)) {
            lostPositions.remove(fingerprint.hex());
            return Optional.empty();
        }
        MadeObject made = MadeObject.column(0, column, lost.binding().tableOid(), lost.binding().attnum());
        Log.info("resuming " + operation.type() + " on " + operation.table() + ", which the ledger lost: "
                + made.describe() + " is kept");
        return Optional.of(new Resumable(-1, lost.binding().step(), made, null));
    }

    private static String requestedColumn(Operation operation) {
        try {
            return Json.MAPPER.readTree(operation.requestJson()).path("column").asText("");
        } catch (java.io.IOException e) {
            throw new IllegalStateException("a request that was read as JSON is JSON: " + operation.requestJson(), e);
        }
    }

    /**
     * The plan for the request. For a resumed add_column, planned as if its column were not there yet,
     * and only if that is the plan the earlier run started (the table may have changed since). Another
     * request meeting a column zdm has not finished making is told whose it is and how to finish it.
     */
    Plan plan(Operation operation, Supplier<Plan> planner, Optional<Resumable> resumable) {
        if (resumable.isEmpty()) {
            try {
                return planner.get();
            } catch (ZdmException e) {
                throw e.code() == ErrorCode.KEY_ALREADY_EXISTS ? unfinishedOwner(operation, e) : e;
            }
        }
        Resumable r = resumable.get();
        if (r.column().kind() == MadeObject.Kind.INDEX) {
            return planned.withoutIndex(operation.table(), SqlName.of(r.column().name()), planner);
        }
        Plan plan = r.column().kind() == MadeObject.Kind.CONSTRAINT
                ? planned.withoutConstraint(operation.table(), SqlName.of(r.column().name()), planner)
                : planned.without(operation.table(), SqlName.of(r.column().name()), planner);
        if (r.plan() == null) {
            return plan;
        }
        try {
            if (Json.MAPPER.readTree(r.plan()).equals(Json.MAPPER.readTree(planJson(plan)))) {
                return plan;
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("zdm.operations holds a plan that is not JSON: " + r.plan(), e);
        }
        throw ZdmException.precondition("an earlier run of this request (zdm.operations id " + r.id() + ") made "
                + r.column().describe() + " and stopped after step " + r.stepsDone() + "; planned now, the request"
                + " takes other steps than it did then (" + r.plan() + "), so it is not resumed: finish it by hand, or"
                + (r.column().kind() == MadeObject.Kind.CONSTRAINT ? " drop the constraint (ALTER TABLE ... DROP CONSTRAINT)"
                : " drop the column (ALTER TABLE ... DROP COLUMN)") + " and send the request again");
    }

    /** A 21 for a column that is zdm's unfinished add_column: says so, and how to finish or undo it. */
    private ZdmException unfinishedOwner(Operation operation, ZdmException exists) {
        if (!"add_column".equals(operation.type())) {
            return exists;
        }
        try {
            Connection c = backend.connection();
            String column = requestedColumn(operation);
            Optional<Long> oid = PgCatalog.tableOid(c, operation.table());
            Optional<Ledger.Unfinished> owner = oid.isEmpty() ? Optional.empty()
                    : Ledger.columnOwner(c, oid.get(), column);
            if (owner.isEmpty()) {
                return exists;
            }
            Ledger.Unfinished u = owner.get();
            ObjectNode request = (ObjectNode) Json.MAPPER.readTree(u.requestJson());
            request.remove("msg_id");
            // An operation of a migration carries its place there ("position:name"), which a request cannot send.
            com.fasterxml.jackson.databind.JsonNode place = request.remove("zdm_migration_place");
            String resend = place == null ? "send that same request again"
                    : "send migration " + place.asText().substring(place.asText().indexOf(':') + 1) + " again";
            return new ZdmException(ErrorCode.KEY_ALREADY_EXISTS, exists.getMessage() + ": it is zdm's unfinished "
                    + u.kind() + " (zdm.operations id " + u.id() + ", state " + u.state() + "), started by " + request
                    + (place == null ? "" : " (operation " + place.asText().substring(0, place.asText().indexOf(':'))
                    + " of a migration)") + "; " + resend + " to finish it (its backfill resumes where it stopped), or drop"
                    + " the column (ALTER TABLE " + operation.table().quoted() + " DROP COLUMN "
                    + SqlName.of(column).quoted() + ") to undo it", exists.details(), exists);
        } catch (SQLException e) {
            Log.info("looking up who made the column: " + PgErrors.firstLine(e));
            return exists;
        } catch (java.io.IOException | RuntimeException e) {
            Log.info("looking up who made the column: " + e);
            return exists;
        }
    }

    /**
     * The job stopped because its ledger rows are gone: nothing is undone (zdm no longer knows by OID
     * what it made), and where a batched job stood is kept in this process, so the same request sent
     * here again resumes after the batches it committed rather than applying them twice.
     */
    ZdmException stoppedWithoutLedger(Operation operation, Fingerprint fingerprint, StepContext ctx,
                                      String what, Exception cause) {
        Optional<Checkpoints.Written> position = Checkpoints.lastWritten(ctx.operationId(), ctx.step());
        position.ifPresent(p -> lostPositions.put(fingerprint.hex(), p));
        Map<String, Object> progress = new LinkedHashMap<>();
        position.ifPresent(p -> {
            progress.put("total_rows", p.state().rowsDone());
            progress.put("batches", p.state().batchesDone());
        });
        String where = position.map(p -> p.state().rowsDone() + " rows in " + p.state().batchesDone()
                + " batches committed; this node kept their position: the same request sent to it again remakes the"
                + " ledger and resumes after them (another node, or this one restarted, cannot know they ran and would"
                + " start from the first row)").orElse("the same request sent again remakes the ledger and starts"
                + " afresh; what this run made is not undone");
        return new ZdmException(ErrorCode.CRASH, "stopped: zdm's ledger lost this operation (" + what + "): "
                + where, Aborts.replyShape(operation, progress), cause);
    }

    /** A job whose ledger rows were lost under it, sent again to this node: its position written back. */
    void restoreLostPosition(Connection c, Fingerprint fingerprint, Plan plan, long id, long oid)
            throws SQLException {
        Checkpoints.Written lost = lostPositions.remove(fingerprint.hex());
        if (lost == null || lost.binding().tableOid() != oid || Checkpoints.latest(c, id).isPresent()) {
            return;
        }
        Checkpoints.Binding binding = new Checkpoints.Binding(id, lost.binding().step(), oid, lost.binding().attnum());
        Checkpoints.restore(c, binding, lost.state());
        Log.info("operation " + id + " (" + plan.table() + "): the position its ledger lost is written back: "
                + lost.state().rowsDone() + " rows in " + lost.state().batchesDone() + " batches done");
    }

    static String planJson(Plan plan) {
        return Json.MAPPER.valueToTree(plan.steps().stream().map(Step::sql).toList()).toString();
    }
}
