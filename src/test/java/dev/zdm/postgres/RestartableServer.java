package dev.zdm.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * An embedded server of one test class on a data directory of its own, which it can stop and start
 * again on the same data and port: what a server restart looks like to a node.
 */
final class RestartableServer implements AutoCloseable {

    private final Path data;
    private EmbeddedServer server;
    private final int port;
    private final Database database;

    RestartableServer() throws IOException {
        this.data = Files.createTempDirectory("zdm-restartable-");
        Files.delete(data);
        this.server = EmbeddedServer.start(data, false, 0);
        this.port = server.port();
        this.database = server.database();
    }

    Database database() {
        return database;
    }

    /** The URL a node process is given. */
    String jdbcUrl() {
        return database.jdbcUrl() + "?user=postgres";
    }

    /** Stops the server (fast shutdown: every backend ends) and starts it again on the same data. */
    void restart() throws IOException {
        server.close();
        server = EmbeddedServer.start(data, false, port);
    }

    void exec(String... sql) {
        try (Connection c = database.connect("zdm-test"); Statement s = c.createStatement()) {
            for (String one : sql) {
                s.execute(one);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    long number(String sql) {
        try (Connection c = database.connect("zdm-test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : -1;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    String text(String sql) {
        try (Connection c = database.connect("zdm-test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    void table(String name, long rows) {
        exec("DROP TABLE IF EXISTS " + name,
                "CREATE TABLE " + name + " (id bigserial PRIMARY KEY, email text, name text, n int NOT NULL DEFAULT 0)",
                "INSERT INTO " + name + " (email, name) SELECT 'user' || g || '@example.com', 'User ' || g"
                        + " FROM generate_series(1, " + rows + ") g",
                "ANALYZE " + name);
    }

    @Override
    public void close() {
        server.close();
        try (var files = Files.walk(data)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
