package dev.zdm.postgres.connect;

import dev.zdm.Log;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * --demo-rows N: the table the course's examples assume, users (id bigserial primary key, email
 * text, name text), with N generated rows, created only when no users table exists, so a newcomer
 * can pipe the seed's messages into a real server at once. An existing table is never touched.
 */
public final class DemoTable {

    private DemoTable() {
    }

    public static void ensure(Connection c, long rows) throws SQLException {
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT to_regclass('users') IS NOT NULL")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    Log.info("demo: a users table exists already; left as it is");
                    return;
                }
            }
            long started = System.nanoTime();
            boolean autocommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                s.execute("CREATE TABLE users (id bigserial PRIMARY KEY, email text, name text)");
                s.execute("INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g"
                        + " FROM generate_series(1, " + rows + ") AS g");
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autocommit);
            }
            // Fresh statistics, so the first plans on the table are the ones a real table would get.
            s.execute("ANALYZE users");
            Log.info("demo: created users with " + rows + " rows in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        }
    }
}
