package dev.zdm.cases;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.postgres.SharedPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Databases for cases that read a live server ({@code --schema-from}): on the tests' shared embedded
 * server, a fresh database per case made from the case's SQL.
 */
final class CaseDatabases {

    /** Stands in a case's args for the URL of its database. */
    static final String URL = "{database}";

    private static final AtomicInteger NEXT = new AtomicInteger();

    private CaseDatabases() {
    }

    /** A new database holding what {@code sql} (an array of statements) makes; answers its postgres:// URL. */
    static synchronized String create(JsonNode sql) {
        String name = "zdm_case_" + NEXT.incrementAndGet();
        try (Connection admin = SharedPostgres.database().connect("zdm-cases"); Statement s = admin.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("creating database " + name, e);
        }
        String jdbc = "jdbc:postgresql://localhost:" + SharedPostgres.port() + "/" + name;
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        try (Connection c = java.sql.DriverManager.getConnection(jdbc, props); Statement s = c.createStatement()) {
            for (JsonNode statement : sql) {
                s.execute(statement.asText());
            }
        } catch (SQLException e) {
            throw new IllegalStateException("setting up database " + name + ": " + e.getMessage(), e);
        }
        return "postgres://postgres@localhost:" + SharedPostgres.port() + "/" + name;
    }

}
