package dev.zdm.postgres.run;

import dev.zdm.postgres.Database;
import dev.zdm.postgres.connect.DaemonThreads;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.Log;
import dev.zdm.pg.SqlName;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Drops, in the background, an INVALID index that could not be dropped at once. Observed on 17:
 * DROP INDEX CONCURRENTLY waits (WaitForLockers) for every transaction holding any lock on the table,
 * readers included, so the very transaction that made the build fail usually stops its cleanup too.
 * That wait is on the other transactions' virtual xids, not in the table's lock queue, and the drop
 * holds only SHARE UPDATE EXCLUSIVE, so waiting without a lock_timeout stops no read or write of the
 * application; the index goes as soon as its blockers end.
 */
public final class InvalidIndexJanitor implements AutoCloseable {

    private final Database database;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(DaemonThreads.named("zdm-invalid-index-janitor"));

    public InvalidIndexJanitor(Database database) {
        this.database = database;
    }

    public void drop(SqlName index) {
        Log.info("the INVALID index " + index + " will be dropped as soon as the transactions using the table end");
        worker.submit(() -> {
            try (Connection c = database.connect("zdm-janitor"); Statement s = c.createStatement()) {
                s.execute("SET lock_timeout = 0");
                s.execute("DROP INDEX CONCURRENTLY IF EXISTS " + index.quoted());
                Log.info("dropped the INVALID index " + index + " in the background");
            } catch (SQLException e) {
                Log.info("dropping the INVALID index " + index + " in the background failed: " + PgErrors.firstLine(e)
                        + " (the next create_index of it drops it first)");
            }
        });
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
