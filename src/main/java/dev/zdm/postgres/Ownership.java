package dev.zdm.postgres;

import dev.zdm.Log;
import dev.zdm.engine.Blocker;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Operation;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Checkpoints;
import dev.zdm.postgres.ledger.Fingerprint;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.OperationLock;
import dev.zdm.postgres.run.StepContext;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** An operation is one backend's at a time: its advisory lock, taken within the budget and given back. */
final class Ownership {

    /** How often a request waiting for an operation's owner asks again. */
    private static final long OWNER_POLL_MS = 25;

    private final Backend backend;
    private final BlockerNames blockers;
    private final SqlFailure failure;

    Ownership(Backend backend, BlockerNames blockers, SqlFailure failure) {
        this.backend = backend;
        this.blockers = blockers;
        this.failure = failure;
    }

    /**
     * Takes the operation's advisory lock, waiting within the budget for a node that holds it; past
     * the budget, error 14 naming that node's backend. Answers how long it waited.
     */
    long take(Operation operation, Fingerprint fingerprint, Duration lockBudget) {
        long started = System.nanoTime();
        try {
            Connection c = backend.connection();
            while (!OperationLock.tryTake(c, fingerprint.lockKey())) {
                long waited = StepContext.millisSince(started);
                if (waited >= lockBudget.toMillis()) {
                    Optional<Integer> holder = OperationLock.holder(c, fingerprint.lockKey());
                    List<Blocker> named = holder.isEmpty() ? List.of() : blockers.describe(Set.of(holder.get()));
                    throw new LockBudgetExceeded("operation already running: " + operation.type() + " on "
                            + operation.table() + " is owned by " + (holder.isEmpty() ? "another zdm session"
                            : named.get(0).label()) + " (its advisory lock was not free within " + waited
                            + " ms); nothing done", operation.table().value(), waited, named, true,
                            refusedProgress(operation, fingerprint));
                }
                Thread.sleep(Math.min(OWNER_POLL_MS, lockBudget.toMillis() - waited));
            }
            return StepContext.millisSince(started);
        } catch (SQLException e) {
            throw failure.failed(e, "taking ownership of " + operation.type() + " on " + operation.table());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZdmException(ErrorCode.CRASH, "interrupted while waiting for the owner of " + operation.type());
        }
    }

    void release(Fingerprint fingerprint) {
        try {
            OperationLock.release(backend.connection(), fingerprint.lockKey());
        } catch (SQLException e) {
            // A lost connection has released it with its backend.
            Log.info("releasing the operation lock: " + PgErrors.firstLine(e));
            if (PgErrors.connectionLost(e)) {
                backend.discard();
            }
        }
    }

    /** What a refused request reports of the operation: the shape its own 14 has. */
    private Map<String, Object> refusedProgress(Operation operation, Fingerprint fingerprint) throws SQLException {
        Map<String, Object> progress = new LinkedHashMap<>();
        if ("create_index".equals(operation.type())) {
            progress.put("attempts", 0);
        } else if ("migrate_data".equals(operation.type())) {
            Optional<Ledger.Entry> entry = Ledger.find(backend.connection(), fingerprint);
            Optional<Checkpoints.State> state = entry.isEmpty() ? Optional.empty()
                    : Checkpoints.latest(backend.connection(), entry.get().id());
            progress.put("total_rows", state.map(Checkpoints.State::rowsDone).orElse(0L));
            progress.put("batches", state.map(Checkpoints.State::batchesDone).orElse(0));
        }
        return progress;
    }
}
