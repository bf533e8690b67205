package dev.zdm.postgres.throttle;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Strain as gh-ost's max-load reads it, in PostgreSQL's terms: more client sessions running a statement
 * right now (pg_stat_activity, state active) than {@code max}, this session not counted.
 */
final class ActiveSessions implements StrainSignal {

    private final int max;

    ActiveSessions(int max) {
        this.max = max;
    }

    @Override
    public String strain(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity"
                + " WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()")) {
            rs.next();
            long active = rs.getLong(1);
            return active > max ? active + " active sessions > max_active_sessions " + max : null;
        }
    }
}
