package dev.zdm.postgres.connect;

import dev.zdm.pg.SqlLiteral;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What every connection zdm opens sets for itself, whatever the role's or the database's defaults say
 * ({@code ALTER ROLE/DATABASE ... SET}): zdm relies on these, so it takes none of them for granted.
 * <ul>
 * <li>standard_conforming_strings on: a '...' literal reads a backslash as itself (SqlLiteral is right
 *     either way; this keeps what the server logs and what explain shows the same text).</li>
 * <li>statement_timeout 0: zdm bounds its own statements (lock_timeout per step, its own deadlines); a
 *     database-wide 300 ms would make any index build or backfill on a real table impossible.</li>
 * <li>lock_timeout 0 until a step sets its lock budget: the budget is the request's, never the role's.</li>
 * <li>idle_in_transaction_session_timeout, idle_session_timeout (14+), transaction_timeout (17+) 0: an
 *     open_transaction session lives as long as the scenario says, and the engine's connections wait
 *     between requests without being ended under the operation's advisory lock.</li>
 * <li>default_transaction_isolation read committed: a batch UPDATE re-reads a row an application
 *     changed meanwhile instead of failing with a serialization error.</li>
 * <li>application_name: how pg_stat_activity and the lock observer tell zdm's backends apart.</li>
 * <li>extra_float_digits 3: a batch's key position is stored and sent back as the key's text, and
 *     extra_float_digits -10 rounds 1.0000000000001 to 1, so a walk would skip rows (KeyTextSettingsTest).</li>
 * <li>DateStyle ISO with the database's or role's own field order ({@link UserDateOrder}): pgjdbc needs
 *     ISO output, and the users' date constants must be read in the order their database reads them.
 *     IntervalStyle is left as the database's: it is how the users' interval constants are read (an
 *     interval key's position is text zdm formats itself, dev.zdm.pg.KeyText).</li>
 * <li>session_replication_role origin: under replica (a DBA's database or role default) triggers and
 *     foreign-key checks do not fire, so a batch would write rows the schema forbids. It is a superuser
 *     setting: when it is not origin and the role may not set it, the connection is refused by name.</li>
 * </ul>
 * search_path is left as the connection's: it says which table a name means. TimeZone too: it is what
 * the users' own expressions (now()::date, a timestamptz default) compute with.
 *
 * <p>These are session settings of connections zdm holds alone for their whole life: they end with the
 * backend, and a session pooler resets a backend it hands on (server_reset_query, DISCARD ALL). A
 * per-step lock_timeout is a session setting too, because CREATE INDEX CONCURRENTLY and DROP INDEX
 * CONCURRENTLY run outside any transaction, where SET LOCAL has no effect.
 */
public final class SessionSettings {

    private SessionSettings() {
    }

    /** The statements, in order, for a server of major version {@code serverMajor}. */
    public static List<String> statements(String applicationName, int serverMajor) {
        List<String> sql = new ArrayList<>(List.of(
                "SET standard_conforming_strings = on",
                "SET statement_timeout = 0",
                "SET lock_timeout = 0",
                "SET idle_in_transaction_session_timeout = 0",
                "SET default_transaction_isolation = 'read committed'",
                "SET extra_float_digits = 3",
                "SET application_name = " + SqlLiteral.of(applicationName)));
        if (serverMajor >= 14) {
            sql.add("SET idle_session_timeout = 0");
        }
        if (serverMajor >= 17) {
            sql.add("SET transaction_timeout = 0");
        }
        return sql;
    }

    /** Applies the settings to a connection just opened, in autocommit, in one round trip. */
    public static void apply(Connection c, String applicationName) throws SQLException {
        int major = c.getMetaData().getDatabaseMajorVersion();
        try (Statement s = c.createStatement()) {
            s.execute(String.join("; ", statements(applicationName, major)));
        }
        UserDateOrder.apply(c);
        requireOriginReplicationRole(c);
    }

    /**
     * session_replication_role back to origin when a default made it anything else; SET only then,
     * because it needs superuser (or GRANT SET ON PARAMETER, 15+), which zdm's role rarely has.
     */
    static void requireOriginReplicationRole(Connection c) throws SQLException {
        if (ORIGIN.equals(replicationRole(c))) {
            return;
        }
        try (Statement s = c.createStatement()) {
            s.execute("SET session_replication_role = origin");
        } catch (SQLException e) {
            throw new SQLException("session_replication_role is '" + replicationRole(c) + "' for this connection"
                    + " (a database or role default), which turns off triggers and foreign-key checks, and the"
                    + " role zdm connects as may not set it back to origin (" + e.getMessage().lines().findFirst()
                    .orElse("") + "); reset the default (ALTER DATABASE/ROLE ... RESET session_replication_role)"
                    + " or GRANT SET ON PARAMETER session_replication_role to the role", e.getSQLState(), e);
        }
    }

    private static final String ORIGIN = "origin";

    private static String replicationRole(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT current_setting('session_replication_role')")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
