package dev.zdm.postgres;

import dev.zdm.engine.Engines;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * One embedded PostgreSQL for every test class of the JVM (started on first use, stopped at exit),
 * so the suite pays the start-up once. Tests keep apart by using tables of their own.
 */
public final class SharedPostgres {

    private static EmbeddedServer server;

    private SharedPostgres() {
    }

    public static synchronized Database database() {
        if (server == null) {
            try {
                server = EmbeddedServer.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        }
        return server.database();
    }

    /** The port the shared server listens on, for tools that take a URL. */
    public static int port() {
        database();
        return server.port();
    }

    static PostgresEngine engine() {
        try {
            return PostgresEngine.connect(database(), 3);
        } catch (Engines.StartFailed e) {
            throw new IllegalStateException(e);
        }
    }

    static Connection connect() {
        try {
            return database().connect("zdm-test");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static void exec(String... sql) {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String one : sql) {
                s.execute(one);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static long number(String sql) {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static String text(String sql) {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A table {@code name (id bigserial primary key, email text, name text, n int default 0)} with rows. */
    static void table(String name, long rows) {
        exec("DROP TABLE IF EXISTS " + name,
                "CREATE TABLE " + name + " (id bigserial PRIMARY KEY, email text, name text, n int NOT NULL DEFAULT 0)",
                "INSERT INTO " + name + " (email, name) SELECT 'user' || g || '@example.com', 'User ' || g"
                        + " FROM generate_series(1, " + rows + ") g",
                "ANALYZE " + name);
    }
}
