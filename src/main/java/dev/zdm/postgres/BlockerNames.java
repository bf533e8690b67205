package dev.zdm.postgres;

import dev.zdm.Log;
import dev.zdm.engine.Blocker;
import dev.zdm.postgres.connect.AppSessions;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.observe.LockObserver;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;

/**
 * The backends as pg_stat_activity shows them now, named by the session zdm opened on them where it
 * did; an error 14 names them.
 */
final class BlockerNames {

    private final AppSessions sessions;
    private final Backend backend;
    private final LockObserver observer;

    BlockerNames(AppSessions sessions, Backend backend, LockObserver observer) {
        this.sessions = sessions;
        this.backend = backend;
        this.observer = observer;
    }

    List<Blocker> describe(Set<Integer> pids) {
        if (pids.isEmpty()) {
            return List.of();
        }
        try {
            // A blocker gone by now is described as the observer saw it while it blocked.
            return sessions.describe(backend.connection(), pids).stream()
                    .map(b -> !"ended".equals(b.state()) ? b : observer.lastSeen(b.pid())
                            .map(s -> new Blocker(b.session(), b.pid(), s.applicationName(), "ended",
                                    s.transactionAgeMs()))
                            .orElse(b))
                    .toList();
        } catch (SQLException failed) {
            Log.info("describing the blockers " + pids + ": " + PgErrors.firstLine(failed));
            return pids.stream().map(pid -> new Blocker(null, pid, "", "unknown", null)).toList();
        }
    }
}
