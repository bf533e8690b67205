package dev.zdm.postgres.run;

import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.observe.LockObserver;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;

/**
 * A read of the target table outside any step (has it rows? where do its keys end?) under the same
 * rule as a step: lock_timeout set, the lock observer live. Even a plain SELECT queues behind an
 * ACCESS EXCLUSIVE holder, and the node, single-threaded, could not answer anything meanwhile.
 */
public final class GuardedRead {

    public interface Query<T> {
        T run(Connection c) throws SQLException;
    }

    private GuardedRead() {
    }

    /** Runs {@code query}; a lost lock race is a {@link LockWaitTimedOut} carrying {@code progress}. */
    public static <T> T run(Backend backend, LockObserver observer, long tableOid, Duration budget, String doing,
                            Map<String, Object> progress, Query<T> query) throws LockWaitTimedOut, SQLException {
        Connection c = backend.connection();
        StepContext.setLockTimeout(c, budget);
        LockObserver.Watch watch = observer.watch(backend.pid(), tableOid);
        long started = System.nanoTime();
        LockObserver.Observation seen = null;
        try {
            return query.run(c);
        } catch (SQLException e) {
            seen = watch.stop();
            if (PgErrors.lostLockRace(e)) {
                throw new LockWaitTimedOut(PgErrors.firstLine(e) + " while " + doing,
                        StepContext.millisSince(started), seen.blockers(), progress, seen.waitedOn());
            }
            throw e;
        } finally {
            if (seen == null) {
                watch.stop();
            }
        }
    }
}
