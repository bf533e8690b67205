package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where the password comes from, against a server that checks it (SCRAM): PGPASSWORD, .pgpass, a service file. */
class CredentialsTest {

    private static final String URI = "postgres://" + PasswordRole.ROLE + "@localhost:%d/" + PasswordRole.DATABASE;

    private static String uri() {
        return URI.formatted(PasswordRole.port());
    }

    private static String whoAmI(Database db) throws SQLException {
        try (Connection c = db.connect("zdm-test"); ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void the_server_refuses_a_wrong_password_and_the_error_does_not_echo_it() {
        String password = PasswordRole.password();
        assertThatThrownBy(() -> whoAmI(Database.parse(uri(), Map.of("PGPASSWORD", "wrong-" + password))))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("password authentication failed")
                .hasMessageNotContaining(password);
    }

    @Test
    void pgpassword_is_the_password_of_a_uri_without_one() throws SQLException {
        String password = PasswordRole.password();
        assertThat(whoAmI(Database.parse(uri(), Map.of("PGPASSWORD", password)))).isEqualTo(PasswordRole.ROLE);
        assertThat(whoAmI(Database.parse("postgres://", Map.of("PGPASSWORD", password, "PGUSER", PasswordRole.ROLE,
                "PGHOST", "localhost", "PGPORT", Integer.toString(PasswordRole.port()), "PGDATABASE",
                PasswordRole.DATABASE)))).isEqualTo(PasswordRole.ROLE);
    }

    @Test
    void a_password_file_is_read_when_none_is_given(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String password = PasswordRole.password();
        Path pgpass = dir.resolve("pgpass");
        Files.writeString(pgpass, "localhost:" + PasswordRole.port() + ":" + PasswordRole.DATABASE + ":"
                + PasswordRole.ROLE + ":" + password + "\n");
        // pgjdbc reads PGPASSFILE, or this property standing for it in a JVM that cannot set its environment.
        String before = System.setProperty("org.postgresql.pgpassfile", pgpass.toString());
        try {
            assertThat(whoAmI(Database.parse(uri(), Map.of()))).isEqualTo(PasswordRole.ROLE);
        } finally {
            restore("org.postgresql.pgpassfile", before);
        }
    }

    @Test
    void a_service_named_by_pgservice_gives_the_server_and_the_password_file_the_password(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String password = PasswordRole.password();
        Path services = dir.resolve("pg_service.conf");
        Files.writeString(services, "[zdm_billing]\nhost=localhost\nport=" + PasswordRole.port() + "\ndbname="
                + PasswordRole.DATABASE + "\nuser=" + PasswordRole.ROLE + "\n");
        String before = System.setProperty("org.postgresql.pgservicefile", services.toString());
        try {
            Database db = Database.parse("postgres://", Map.of("PGSERVICE", "zdm_billing", "PGPASSWORD", password));
            assertThat(whoAmI(db)).isEqualTo(PasswordRole.ROLE);
            assertThat(db.toString()).contains("zdm_billing").doesNotContain(password);
        } finally {
            restore("org.postgresql.pgservicefile", before);
        }
    }

    @Test
    void an_engine_on_a_role_without_superuser_runs_and_no_log_line_or_reply_holds_the_password() throws Exception {
        String password = PasswordRole.password();
        Database db = Database.parse(uri(), Map.of("PGPASSWORD", password));
        try (Connection c = db.connect("zdm-test")) {
            c.createStatement().execute("DROP TABLE IF EXISTS accounts; CREATE TABLE accounts (id bigint PRIMARY KEY);"
                    + " INSERT INTO accounts SELECT generate_series(1, 100)");
        }
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        ObjectNode reply;
        ObjectNode failed;
        try (PostgresEngine engine = PostgresEngine.connect(db, 3)) {
            Node node = new Node(engine, Duration.ofSeconds(2));
            reply = node.send("{\"type\":\"add_column\",\"table\":\"accounts\",\"column\":\"note\",\"explain\":true}");
            failed = node.send("{\"type\":\"add_column\",\"table\":\"accounts\",\"column\":\"note\"}");
        } finally {
            System.setErr(stderr);
        }
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
        assertThat(failed.get("code").asInt()).isEqualTo(21);
        assertThat(reply.toString() + failed).doesNotContain(password);
        assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain(password);
        assertThatThrownBy(() -> PostgresEngine.connect(Database.parse(uri(), Map.of("PGPASSWORD", "x" + password)), 3))
                .hasMessageContaining("password authentication failed").hasMessageNotContaining(password);
    }

    private static void restore(String property, String before) {
        if (before == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, before);
        }
    }
}
