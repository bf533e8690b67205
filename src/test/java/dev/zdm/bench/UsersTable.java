package dev.zdm.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** The table every operation runs on: creating and loading it, and putting it back between trials. */
final class UsersTable {

    private UsersTable() {
    }

    /**
     * users (id bigserial primary key, email text, name text, n int) with {@code rows} rows. Emails are
     * hashes, not 'user1', 'user2', …, so that an index build sorts unordered input as it would on real
     * data. Autovacuum is off for the table: the VACUUM FULL before each trial does its work, and a
     * worker starting in the middle of one trial but not of its pair would make the two incomparable.
     */
    static void create(Connection c, long rows) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS users");
            s.execute("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name text NOT NULL,"
                    + " n int NOT NULL DEFAULT 0) WITH (autovacuum_enabled = false)");
            s.execute("INSERT INTO users (email, name, n) SELECT md5(g::text) || '@example.com', 'User ' || g, 0"
                    + " FROM generate_series(1, " + rows + ") g");
        }
    }

    /**
     * The same starting point for every trial: the previous change taken back by the caller, then a
     * compact table (VACUUM FULL removes the dead rows of an earlier UPDATE of every row and the values
     * of a dropped column), fresh statistics, and a CHECKPOINT so no trial pays for the last one's
     * dirty pages.
     */
    static void settle(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("VACUUM (FULL, ANALYZE) users");
            s.execute("CHECKPOINT");
        }
    }
}
