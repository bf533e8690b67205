package dev.zdm.postgres.connect;

import dev.zdm.postgres.Database;
import dev.zdm.Log;
import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Blocker;
import dev.zdm.pg.SqlLiteral;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The application transactions a scenario opens: each on a connection of its own, holding a real
 * table lock (LOCK TABLE ... NOWAIT) until closed or until its duration ends. Their backend pids are
 * what pg_blocking_pids reports, so a migration's blocked_by can name the sessions.
 */
public final class AppSessions implements AutoCloseable {

    /**
     * Observed on 17 with pgjdbc: in the extended protocol the unnamed portal of a transaction's last
     * SELECT stays open, with its snapshot, until the next message, so an "idle in transaction" JDBC
     * session keeps a backend_xmin, and CREATE INDEX CONCURRENTLY waits for it (WaitForOlderSnapshots).
     * The simple protocol closes the portal, as psql does: an idle open transaction then holds neither
     * a table lock nor a snapshot, which is what open_transaction without a mode means.
     */
    private static final Properties SIMPLE_PROTOCOL = new Properties();

    static {
        SIMPLE_PROTOCOL.setProperty("preferQueryMode", "simple");
    }

    private record Session(String name, Connection connection, int pid, ScheduledFuture<?> expiry) {
    }

    private final Database database;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("zdm-session-timer"));

    public AppSessions(Database database) {
        this.database = database;
    }

    public void open(AppTransaction spec) {
        if (sessions.containsKey(spec.session())) {
            throw ZdmException.exists("session " + spec.session());
        }
        Connection c = null;
        try {
            c = database.connect("zdm-session:" + spec.session(), SIMPLE_PROTOCOL);
            c.setAutoCommit(false);
            int pid;
            try (Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
                if (spec.mode() == null) {
                    // An idle open transaction: it holds no table lock (reading the table would take
                    // ACCESS SHARE), so the table is only looked up in the catalog.
                    // A name may hold a ': the driver writes it as a literal right for the server's settings.
                    try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?)")) {
                        ps.setString(1, spec.table().quoted());
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            if (rs.getString(1) == null) {
                                throw ZdmException.missing("table " + spec.table());
                            }
                        }
                    }
                } else {
                    s.execute("LOCK TABLE " + spec.table().quoted() + " IN " + spec.mode().sqlName() + " MODE NOWAIT");
                }
            }
            ScheduledFuture<?> expiry = null;
            if (spec.durationSeconds() != null) {
                long ms = Math.round(spec.durationSeconds() * 1000);
                expiry = timer.schedule(() -> expire(spec.session()), ms, TimeUnit.MILLISECONDS);
            }
            if (sessions.putIfAbsent(spec.session(), new Session(spec.session(), c, pid, expiry)) != null) {
                throw ZdmException.exists("session " + spec.session());
            }
        } catch (SQLException e) {
            closeQuietly(c);
            if (PgErrors.LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                throw new ZdmException(ErrorCode.ABORT, "session " + spec.session() + ": " + spec.mode()
                        + " on " + spec.table() + " is not free: " + PgErrors.firstLine(e));
            }
            throw PgErrors.toReply(e, "opening session " + spec.session());
        } catch (RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    /**
     * Rolls the session's transaction back. A session the server ended before (a terminated backend,
     * idle_in_transaction_session_timeout, a restart) is error 13 saying so: its transaction was rolled
     * back when it ended, not now, and whatever the scenario meant it to hold was not held since.
     */
    public void close(String session) {
        Session s = sessions.remove(session);
        if (s == null) {
            throw ZdmException.missing("session " + session);
        }
        SQLException failed = end(s);
        if (failed != null && PgErrors.sessionEnded(failed)) {
            throw new ZdmException(ErrorCode.CRASH, "session " + session + " had already been ended by the server"
                    + " (backend " + s.pid() + " terminated, timed out or restarted), which rolled its transaction"
                    + " back then: " + PgErrors.firstLine(failed));
        }
        if (failed != null) {
            throw PgErrors.toReply(failed, "closing session " + session);
        }
    }

    /**
     * The backends as pg_stat_activity shows them now, named by the session zdm opened on them where
     * it did. A backend that has ended since it blocked is still listed, with state "ended".
     */
    public List<Blocker> describe(Connection c, Set<Integer> pids) throws SQLException {
        Map<Integer, Blocker> seen = new java.util.HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT pid, application_name, state,
                       (extract(epoch FROM clock_timestamp() - xact_start) * 1000)::bigint
                FROM pg_stat_activity WHERE pid = ANY (?)""")) {
            ps.setArray(1, c.createArrayOf("int4", pids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int pid = rs.getInt(1);
                    seen.put(pid, new Blocker(sessionAt(pid), pid, rs.getString(2), rs.getString(3), (Long) rs.getObject(4)));
                }
            }
        }
        List<Blocker> blockers = new ArrayList<>();
        for (int pid : pids) {
            blockers.add(seen.getOrDefault(pid, new Blocker(sessionAt(pid), pid, "", "ended", null)));
        }
        return blockers;
    }

    private String sessionAt(int pid) {
        return sessions.values().stream().filter(s -> s.pid() == pid).map(Session::name).findFirst().orElse(null);
    }

    private void expire(String session) {
        Session s = sessions.remove(session);
        if (s != null) {
            Log.info("session " + session + " ended after its duration");
            end(s);
        }
    }

    /** Rolls back and closes; answers why the rollback failed, or null. */
    private static SQLException end(Session s) {
        if (s.expiry() != null) {
            s.expiry().cancel(false);
        }
        SQLException failed = null;
        try {
            s.connection().rollback();
        } catch (SQLException e) {
            Log.info("rolling back session " + s.name() + ": " + PgErrors.firstLine(e));
            failed = e;
        }
        closeQuietly(s.connection());
        return failed;
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // Closing a broken connection: the server has already ended its transaction.
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        for (String name : List.copyOf(sessions.keySet())) {
            Session s = sessions.remove(name);
            if (s != null) {
                end(s);
            }
        }
    }
}
