package dev.zdm.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * A database of its own on the shared server, owned by a login role without superuser (the ground
 * users stand on), with whatever defaults a test gives it (ALTER DATABASE ... SET).
 */
final class ScratchDatabase {

    private ScratchDatabase() {
    }

    /** Creates (afresh) database {@code name} owned by role {@code owner}, which is created when missing. */
    static Database create(String name, String owner) {
        SharedPostgres.exec(
                "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)",
                "DO $d$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + owner + "') THEN"
                        + " CREATE ROLE " + owner + " LOGIN NOSUPERUSER; END IF; END $d$",
                "CREATE DATABASE " + name + " OWNER " + owner);
        return as(name, owner);
    }

    /** The database {@code name} as role {@code role}. */
    static Database as(String name, String role) {
        Properties props = new Properties();
        props.setProperty("user", role);
        return new Database("jdbc:postgresql://localhost:" + SharedPostgres.port() + "/" + name, props,
                name + " as " + role);
    }

    /**
     * Database {@code database} of the shared server as {@code user} with its password (the role's name, as
     * the tests create their roles), over the shared server's own URL and properties; {@code user} null:
     * as the shared server's own user.
     */
    static Database withPassword(String database, String user) {
        Database shared = SharedPostgres.database();
        Properties props = new Properties();
        props.putAll(shared.properties());
        if (user != null) {
            props.setProperty("user", user);
            props.setProperty("password", user);
        }
        String url = shared.jdbcUrl().replaceFirst("/postgres(\\?|$)", "/" + database + "$1");
        return new Database(url, props, database);
    }

    /**
     * A connection as a plain client opens it: no zdm session settings, so the role's and the
     * database's defaults apply, which is what a test shows bites before zdm is shown to be immune.
     */
    static Connection plainConnection(Database database) throws SQLException {
        return DriverManager.getConnection(database.jdbcUrl(), database.properties());
    }

    static void exec(Database database, String... sql) {
        try (Connection c = database.connect("zdm-test"); Statement s = c.createStatement()) {
            for (String one : sql) {
                s.execute(one);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static String text(Database database, String sql) {
        try (Connection c = database.connect("zdm-test"); Statement s = c.createStatement();
             var rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
