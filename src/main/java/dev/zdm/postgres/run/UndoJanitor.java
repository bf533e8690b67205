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
import org.postgresql.PGConnection;

/**
 * Finishes, in the background, the undos the ledger holds as undo_pending: at engine start (what a
 * process that died left), after a request that could not finish its own undo, and every
 * {@link #RETRY_MS} ms while any is left. It works only on operations whose advisory lock it can take,
 * so never on one a node is running, and undoes each object through {@link ObjectUndo}, by OID.
 *
 * <p>The janitor never stands in the way of zdm's own requests nor of the application, so a request's
 * 14 names the application's holders only, whatever the timing (fuzz seed 71306): a request
 * {@link #pause}s it (cancels its statement and waits for its sweep to end) before taking any lock, and
 * it sweeps again only when no request runs. An INVALID index is dropped under
 * {@link #INDEX_DROP_WAIT_MS}: DROP INDEX CONCURRENTLY holds SHARE UPDATE EXCLUSIVE on the table while
 * it waits (WaitForLockers, a lock wait on every older transaction's virtual xid, so under lock_timeout)
 * for every transaction holding any lock on the table, readers included; waiting there for the
 * transaction that made the build fail would block the application's DDL, VACUUM and LOCKs, so the drop
 * gives up at once and is retried every {@link #RETRY_MS} ms, the INVALID index left as it was. A column
 * or constraint needs ACCESS EXCLUSIVE, which would queue the application behind it, so those are tried
 * under the lock budget and retried later.
 */
public final class UndoJanitor implements AutoCloseable {

    static final long RETRY_MS = 2_000;

    /** How long a drop of an INVALID index may wait for locks or for older transactions before it is retried. */
    static final long INDEX_DROP_WAIT_MS = 50;

    /** Guards {@link #paused}, {@link #sweeping} and {@link #wanted}. */
    private final Object gate = new Object();
    /** Requests running now: the janitor sweeps only while there are none. */
    private int paused;
    private boolean sweeping;
    /** A sweep was asked for while paused: it runs when the last request ends. */
    private boolean wanted;

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

    /**
     * Stops the janitor until {@link #resume}: its running statement is cancelled (again, until its sweep
     * has ended, as a cancel that reaches the backend between two statements is lost) and this returns only
     * once it holds no lock and no operation's advisory lock. An undo cut short stays undo_pending.
     */
    public void pause() {
        synchronized (gate) {
            paused++;
        }
        while (true) {
            synchronized (gate) {
                if (!sweeping) {
                    return;
                }
            }
            cancelCurrent();
            synchronized (gate) {
                if (sweeping) {
                    try {
                        gate.wait(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    /** Ends a {@link #pause}: once no request runs, a sweep asked for meanwhile runs. */
    public void resume() {
        boolean sweepNow;
        synchronized (gate) {
            paused--;
            sweepNow = paused == 0 && wanted;
            if (sweepNow) {
                wanted = false;
            }
        }
        if (sweepNow) {
            poke();
        }
    }

    private boolean isPaused() {
        synchronized (gate) {
            if (paused > 0) {
                wanted = true;
                return true;
            }
            return false;
        }
    }

    private void cancelCurrent() {
        Connection c = current;
        if (c == null) {
            return;
        }
        try {
            c.unwrap(PGConnection.class).cancelQuery();
        } catch (SQLException e) {
            // The sweep ends anyway: its connection is gone or its statement over.
            Log.info("undo janitor: cancelling its statement: " + PgErrors.firstLine(e));
        }
    }

    private void sweep() {
        synchronized (gate) {
            if (paused > 0) {
                wanted = true;
                return;
            }
            sweeping = true;
        }
        boolean left = false;
        try {
            left = sweepOnce();
        } finally {
            synchronized (gate) {
                sweeping = false;
                gate.notifyAll();
            }
        }
        if (left && !worker.isShutdown() && !isPaused()) {
            worker.schedule(this::sweep, RETRY_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** One pass over the pending undos; answers whether any is left. */
    private boolean sweepOnce() {
        boolean left = false;
        try (Connection c = database.connect("zdm-janitor")) {
            current = c;
            // The ledger's own statements wait no longer than a request would.
            StepContext.setLockTimeout(c, lockBudget);
            for (Ledger.Pending p : Ledger.undoPending(c)) {
                if (isPaused()) {
                    return true;
                }
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
        return left;
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
                s.execute(o.kind() == MadeObject.Kind.INDEX ? "SET lock_timeout = " + INDEX_DROP_WAIT_MS
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
