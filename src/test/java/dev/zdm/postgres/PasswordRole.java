package dev.zdm.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A login role without superuser whose connections over TCP the shared embedded server checks by
 * SCRAM password (its pg_hba.conf gets lines for this role only, first; everyone else stays trusted),
 * and a database it owns. The embedded server trusts every connection otherwise, so a test of where a
 * password comes from needs a server that really asks for one.
 */
public final class PasswordRole {

    public static final String ROLE = "zdm_pw_role";
    public static final String DATABASE = "zdm_pw_db";
    private static String password;

    private PasswordRole() {
    }

    /** The role's password, set once per JVM. */
    public static synchronized String password() {
        if (password == null) {
            password = "pw-" + UUID.randomUUID();
            setUp(password);
        }
        return password;
    }

    public static int port() {
        return SharedPostgres.port();
    }

    private static void setUp(String password) {
        try (Connection c = SharedPostgres.database().connect("zdm-test"); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DATABASE);
            s.execute("DROP ROLE IF EXISTS " + ROLE);
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + password + "'");
            s.execute("CREATE DATABASE " + DATABASE + " OWNER " + ROLE);
            String hbaFile;
            try (var rs = s.executeQuery("SHOW hba_file")) {
                rs.next();
                hbaFile = rs.getString(1);
            }
            Path hba = Path.of(hbaFile);
            String lines = "host all " + ROLE + " 127.0.0.1/32 scram-sha-256\nhost all " + ROLE + " ::1/128 scram-sha-256\n";
            String current = Files.readString(hba);
            if (!current.startsWith(lines)) {
                Files.writeString(hba, lines + current);
            }
            s.execute("SELECT pg_reload_conf()");
        } catch (SQLException | IOException e) {
            throw new IllegalStateException(e);
        }
        awaitPasswordChecked();
    }

    /** The reload is signalled, not awaited: wait until a connection without the password is refused. */
    private static void awaitPasswordChecked() {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Connection c = Database.parse("postgres://" + ROLE + "@localhost:" + port() + "/" + DATABASE,
                    java.util.Map.of("PGPASSWORD", "not-the-password")).connect("zdm-test")) {
                Thread.sleep(50);
            } catch (SQLException refused) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new IllegalStateException("the server still lets " + ROLE + " in without its password");
    }
}
