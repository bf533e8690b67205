package dev.zdm.cases;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.postgres.EmbeddedServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Databases for cases that read a live server ({@code --schema-from}): one embedded server for the
 * JVM, started on first use, and a fresh database per case made from the case's SQL.
 */
final class CaseDatabases {

    /** Stands in a case's args for the URL of its database. */
    static final String URL = "{database}";

    private static EmbeddedServer server;
    private static final AtomicInteger NEXT = new AtomicInteger();

    private CaseDatabases() {
    }

    /** A new database holding what {@code sql} (an array of statements) makes; answers its postgres:// URL. */
    static synchronized String create(JsonNode sql) {
        String name = "zdm_case_" + NEXT.incrementAndGet();
        try (Connection admin = server().database().connect("zdm-cases"); Statement s = admin.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("creating database " + name, e);
        }
        String jdbc = "jdbc:postgresql://localhost:" + server.port() + "/" + name;
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        try (Connection c = java.sql.DriverManager.getConnection(jdbc, props); Statement s = c.createStatement()) {
            for (JsonNode statement : sql) {
                s.execute(statement.asText());
            }
        } catch (SQLException e) {
            throw new IllegalStateException("setting up database " + name + ": " + e.getMessage(), e);
        }
        return "postgres://postgres@localhost:" + server.port() + "/" + name;
    }

    private static EmbeddedServer server() {
        if (server == null) {
            try {
                server = EmbeddedServer.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        }
        return server;
    }
}
