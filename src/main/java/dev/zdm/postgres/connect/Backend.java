package dev.zdm.postgres.connect;

import dev.zdm.Log;
import dev.zdm.postgres.Database;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * One connection the engine talks through, reopened on the next use after it was lost, so a server
 * restart or a killed backend costs one error reply rather than the node, and checked before use after
 * it sat idle, so a loss while idle costs nothing.
 */
public final class Backend implements AutoCloseable {

    private final Database database;
    private final String applicationName;
    /** A connection unused this long is checked with a round trip before it is used again. */
    static final long IDLE_CHECK_NANOS = 1_000_000_000L;
    private static final int VALID_TIMEOUT_SECONDS = 2;

    private Connection connection;
    private long lastUsed = System.nanoTime();
    private int pid;

    public Backend(Database database, String applicationName) {
        this.database = database;
        this.applicationName = applicationName;
    }

    /**
     * Before a request: a connection idle for over {@link #IDLE_CHECK_NANOS} is checked with a round
     * trip and replaced if it was lost (server restart, idle timeout, a dropped TCP connection), so the
     * request is not the one to find out. Only here, never inside an operation: a connection replaced
     * mid-operation would have lost the operation's advisory lock with the old backend.
     */
    public synchronized void validateIfIdle() throws SQLException {
        if (connection != null && System.nanoTime() - lastUsed > IDLE_CHECK_NANOS && !connection.isValid(VALID_TIMEOUT_SECONDS)) {
            Log.info(applicationName + ": the idle connection was lost; reconnecting");
            discard();
        }
    }

    public synchronized Connection connection() throws SQLException {
        lastUsed = System.nanoTime();
        if (connection == null || connection.isClosed()) {
            connection = database.connect(applicationName);
            connection.setAutoCommit(true);
            try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
        }
        return connection;
    }

    /** The server process behind the connection: what pg_locks and pg_blocking_pids name. */
    public synchronized int pid() throws SQLException {
        connection();
        return pid;
    }

    /** The pid of the open connection's server process, 0 when none is open; no round trip. */
    synchronized int runningPid() {
        return connection == null ? 0 : pid;
    }

    /**
     * Cancels the statement the connection runs now, from another thread (pgjdbc sends the cancel
     * request on a connection of its own); a backend with nothing running ignores it.
     */
    synchronized void cancelRunning() throws SQLException {
        if (connection != null) {
            connection.unwrap(org.postgresql.PGConnection.class).cancelQuery();
        }
    }

    public Database database() {
        return database;
    }

    /** Forgets a connection that failed, so the next use opens a new one. */
    public synchronized void discard() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // It is already broken; there is nothing left to release.
            }
            connection = null;
        }
    }

    @Override
    public void close() {
        discard();
    }
}
