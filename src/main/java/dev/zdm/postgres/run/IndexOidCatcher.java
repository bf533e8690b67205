package dev.zdm.postgres.run;

import dev.zdm.Log;
import dev.zdm.pg.SqlName;
import dev.zdm.postgres.connect.DaemonThreads;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Records the OID of the index a concurrent build is making while the build runs, from a connection
 * of its own: CREATE INDEX CONCURRENTLY commits the index's catalog entry in its first transaction, and
 * if the build then dies with its backend (server restart, terminated backend, a node killed) the INVALID
 * index it leaves is known to the ledger by OID, so the next request drops exactly that one.
 */
final class IndexOidCatcher implements AutoCloseable {

    static final long POLL_MS = 5;

    private final StepContext ctx;
    private final SqlName index;
    private final Thread thread;
    private volatile boolean running = true;

    private IndexOidCatcher(StepContext ctx, SqlName index) {
        this.ctx = ctx;
        this.index = index;
        this.thread = DaemonThreads.named("zdm-index-oid").newThread(this::run);
    }

    static IndexOidCatcher start(StepContext ctx, SqlName index) {
        IndexOidCatcher catcher = new IndexOidCatcher(ctx, index);
        catcher.thread.start();
        return catcher;
    }

    private void run() {
        try (Connection c = ctx.backend().database().connect("zdm-index-oid")) {
            while (running) {
                Optional<Long> oid = MadeObjects.indexOid(c, ctx.tableOid(), index);
                if (oid.isPresent()) {
                    Ledger.record(c, ctx.operationId(), MadeObject.index(ctx.step(), index.value(), ctx.tableOid(), oid.get()));
                    return;
                }
                Thread.sleep(POLL_MS);
            }
        } catch (SQLException e) {
            // The build's own connection records the OID when it ends normally; this is for when it does not.
            Log.info("recording the OID of " + index + " during its build: " + PgErrors.firstLine(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
