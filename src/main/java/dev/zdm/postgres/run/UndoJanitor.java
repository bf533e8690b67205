package dev.zdm.postgres.run;

import dev.zdm.Log;
import dev.zdm.postgres.Database;
import dev.zdm.postgres.connect.DaemonThreads;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import dev.zdm.postgres.ledger.OperationLock;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Finishes, in the background, the undos the ledger holds as undo_pending: at engine start (what a
 * process that died left), after a request that could not finish its own undo, and every
 * {@link #RETRY_MS} ms while any is left. It works only on operations whose advisory lock it can take,
 * so never on one a node is running, and undoes each object through {@link ObjectUndo}, by OID.
 *
 * <p>An INVALID index is dropped without a lock_timeout: observed on 17, DROP INDEX CONCURRENTLY waits
 * (WaitForLockers) for every transaction holding any lock on the table, readers included, so the
 * transaction that made the build fail usually stops its cleanup too; that wait is on the other
 * transactions' virtual xids, not in the table's lock queue, and the drop holds only SHARE UPDATE
 * EXCLUSIVE, which stops no read or write. A column or constraint needs ACCESS EXCLUSIVE, which would
 * queue the application behind it, so those are tried under the lock budget and retried later.
 */
public final class UndoJanitor implements AutoCloseable {

    static final long RETRY_MS = 2_000;

    private final Database database;
    private final Duration lockBudget;
    private final ScheduledExecutorService worker =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("zdm-undo-janitor"));
    private volatile Connection current;

    public UndoJanitor(Database database, Duration lockBudget) {
        this.database = database;
        this.lockBudget = lockBudget;
    }

    /** Looks at the ledger's pending undos soon. */
    public void poke() {
        if (!worker.isShutdown()) {
            worker.submit(this::sweep);
        }
    }

    private void sweep() {
        boolean left = false;
        try (Connection c = database.connect("zdm-janitor")) {
            current = c;
            // The ledger's own statements wait no longer than a request would.
            StepContext.setLockTimeout(c, lockBudget);
            for (Ledger.Pending p : Ledger.undoPending(c)) {
                if (!OperationLock.tryTake(c, p.fingerprint().lockKey())) {
                    // An orphan whose lock is held has an owner after all: that owner finishes it.
                    left |= !p.orphan();
                    continue;
                }
                try {
                    left |= !undo(c, p);
                } finally {
                    OperationLock.release(c, p.fingerprint().lockKey());
                }
            }
        } catch (SQLException e) {
            Log.info("undo janitor: " + PgErrors.firstLine(e) + "; trying again in " + RETRY_MS + " ms");
            left = true;
        } finally {
            current = null;
        }
        if (left && !worker.isShutdown()) {
            worker.schedule(this::sweep, RETRY_MS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Undoes what operation {@code p} left; answers whether nothing is left. Of an orphan (its owner
     * gone, its lock free) only the INVALID indexes go: a half-made column is the application's to use
     * by now, and the same request sent again resumes it. A column or constraint is retried under the
     * budget its own request asked for, the node's only for an operation recorded without one.
     */
    private boolean undo(Connection c, Ledger.Pending p) throws SQLException {
        long id = p.id();
        // Read before its lock was taken: the owner may have finished it meanwhile (a resent create_index
        // whose index the killed run's backend built), and a done operation is never marked failed.
        Optional<Ledger.Entry> now = Ledger.get(c, id);
        if (now.isEmpty() || now.get().state() == Ledger.State.DONE) {
            return true;
        }
        if (p.orphan() && PartitionedIndexResume.settle(c, id, now.get().tableOid())) {
            // A partitioned index half-built: the partitions' indexes attached are valid and serve reads,
            // the parent's has no storage; kept for the same request to continue (PartitionedIndexResume).
            return true;
        }
        long budgetMs = p.budgetMs() != null ? p.budgetMs() : lockBudget.toMillis();
        List<MadeObject> leftovers = Ledger.leftovers(c, id);
        for (MadeObject o : leftovers) {
            if (p.orphan() && o.kind() != MadeObject.Kind.INDEX) {
                continue;
            }
            try (Statement s = c.createStatement()) {
                s.execute(o.kind() == MadeObject.Kind.INDEX ? "SET lock_timeout = 0"
                        : "SET lock_timeout = " + Math.max(1, budgetMs));
            }
            try {
                ObjectUndo.Result result = ObjectUndo.undo(c, o, now.get().tableOid());
                StepContext.setLockTimeout(c, lockBudget);
                Ledger.undone(c, id, o.step());
                Log.info("undo janitor: " + o.describe() + " of operation " + id + ": "
                        + result.name().toLowerCase().replace('_', ' '));
            } catch (SQLException e) {
                if (PgErrors.connectionLost(e)) {
                    throw e;
                }
                Log.info("undo janitor: " + o.describe() + " of operation " + id + ": " + PgErrors.firstLine(e));
                return false;
            }
        }
        if (p.orphan()) {
            if (Ledger.leftovers(c, id).isEmpty()) {
                Ledger.state(c, id, Ledger.State.FAILED, "its owner was gone; the INVALID index it left was dropped"
                        + " by the undo janitor");
            }
            return true;
        }
        Ledger.state(c, id, Ledger.State.FAILED, "undone by the janitor");
        return true;
    }

    @Override
    public void close() {
        worker.shutdownNow();
        Connection c = current;
        if (c != null) {
            try {
                // A drop waiting for other transactions would keep its backend busy past the node.
                c.abort(Runnable::run);
            } catch (SQLException ignored) {
                // Closing anyway.
            }
        }
    }
}
