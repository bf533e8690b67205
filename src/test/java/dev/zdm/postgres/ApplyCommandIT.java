package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.protocol.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's commands through the jar, as a deploy job runs them: {@code apply DIR} and
 * {@code status} against a database of its own on the embedded server, as a role that is not a
 * superuser, its tables in its own schema rather than public. A migration stopped by a failure in the
 * middle is finished by running the same command after the cause is fixed, nothing applied twice.
 */
class ApplyCommandIT {

    private static final Path JAR = Path.of(System.getProperty("zdm.jar", "target/zdm.jar"));
    private static final String DB = "zdm_apply_it";
    private static String url;

    /** One run of the jar: its exit code, stdout lines (the replies) and stderr. */
    record Run(int exit, List<JsonNode> replies, String stderr) {
    }

    @BeforeAll
    static void database() throws SQLException {
        SharedPostgres.exec("DROP DATABASE IF EXISTS " + DB, "DROP ROLE IF EXISTS zdm_app",
                "CREATE ROLE zdm_app LOGIN NOSUPERUSER PASSWORD 'app'", "CREATE DATABASE " + DB + " OWNER zdm_app");
        url = "jdbc:postgresql://localhost:" + SharedPostgres.port() + "/" + DB + "?user=zdm_app&password=app";
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA zdm_app");
            s.execute("CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL)");
            s.execute("INSERT INTO accounts (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 3000) g");
            s.execute("UPDATE accounts SET email = 'user10@example.com' WHERE id = 20");
        }
        assertThat(text("SELECT relnamespace::regnamespace::text FROM pg_class WHERE relname = 'accounts'"))
                .isEqualTo("zdm_app");
    }

    @Test
    void aMigrationStoppedInTheMiddleIsFinishedByTheRerunAfterTheFix() throws Exception {
        Path dir = Files.createTempDirectory("zdm-migrations-");
        Files.writeString(dir.resolve("0001_status.json"), """
                {"operations": [
                  {"type": "add_column", "table": "accounts", "column": "status", "default": "active"},
                  {"type": "create_index", "table": "accounts", "column": "status"}
                ]}""");
        Files.writeString(dir.resolve("0002_scores.json"), """
                {"operations": [
                  {"type": "add_column", "table": "accounts", "column": "score", "data_type": "integer"},
                  {"type": "migrate_data", "table": "accounts", "batch_size": 500, "set": {"score": "length(email)"}},
                  {"type": "create_index", "table": "accounts", "column": "email", "unique": true,
                   "index": "accounts_email_key"},
                  {"type": "add_column", "table": "accounts", "column": "verified", "data_type": "boolean"}
                ]}""");
        Files.writeString(dir.resolve("0003_note.json"), """
                {"operations": [{"type": "add_column", "table": "accounts", "column": "note"}]}""");
        Files.writeString(dir.resolve("README.md"), "not a migration");

        Run first = run("apply", dir.toString(), "--database", url);
        assertThat(first.exit()).as(first.stderr()).isEqualTo(3);
        assertThat(first.replies()).hasSize(2);
        assertThat(first.replies().get(0).get("type").asText()).isEqualTo("migration_applied");
        JsonNode stopped = first.replies().get(1);
        assertThat(stopped.get("type").asText()).isEqualTo("error");
        assertThat(stopped.get("code").asInt()).as(stopped.toString()).isEqualTo(22);
        assertThat(stopped.get("name").asText()).isEqualTo("0002_scores");
        assertThat(stopped.get("failed_operation").asInt()).isEqualTo(3);
        assertThat(statuses(stopped)).containsExactly("applied", "applied", "failed", "not_run");
        assertThat(first.stderr()).contains("0002_scores 3/4 create_index accounts: FAILED, error 22")
                .contains("0002_scores 4/4 add_column accounts: not run").contains("(exit 3)");
        assertThat(column("status")).isEqualTo(1);
        assertThat(number("SELECT count(*) FROM accounts WHERE score = length(email)")).isEqualTo(3000);
        assertThat(text("SELECT to_regclass('accounts_email_key')")).isNull();
        assertThat(column("verified")).isZero();
        assertThat(column("note")).as("a later migration does not run after a failed one").isZero();
        assertThat(text("SELECT string_agg(name || ' ' || state || ' ' || operations_done, ', ' ORDER BY name)"
                + " FROM zdm.migrations")).isEqualTo("0001_status done 2, 0002_scores failed 2");
        long doneBefore = number("SELECT count(*) FROM zdm.operations WHERE state = 'done'");
        assertThat(doneBefore).isEqualTo(4);

        // The cause fixed in the data; the same command resumes at the failed operation.
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("UPDATE accounts SET email = 'user20@example.com' WHERE id = 20");
        }
        Run second = run("apply", dir.toString(), "--database", url);
        assertThat(second.exit()).as(second.stderr()).isZero();
        assertThat(second.replies()).hasSize(3);
        assertThat(statuses(second.replies().get(0))).containsExactly("applied_before", "applied_before");
        assertThat(statuses(second.replies().get(1))).containsExactly("applied_before", "applied_before", "applied",
                "applied");
        assertThat(statuses(second.replies().get(2))).containsExactly("applied");
        assertThat(text("SELECT to_regclass('accounts_email_key')::text")).isEqualTo("accounts_email_key");
        assertThat(column("verified")).isEqualTo(1);
        assertThat(column("note")).isEqualTo(1);
        assertThat(number("SELECT count(*) FROM zdm.operations WHERE state = 'done'"))
                .as("the three operations left ran, once each").isEqualTo(doneBefore + 3);
        assertThat(number("SELECT count(*) FROM zdm.operations WHERE kind = 'migrate_data'")).isEqualTo(1);

        Run third = run("apply", dir.toString(), "--database", url);
        assertThat(third.exit()).as(third.stderr()).isZero();
        for (JsonNode reply : third.replies()) {
            assertThat(reply.get("applied").asInt()).as(reply.toString()).isZero();
        }
        assertThat(number("SELECT count(*) FROM zdm.operations")).isEqualTo(doneBefore + 3);

        Run status = run("status", "--database", url);
        assertThat(status.exit()).as(status.stderr()).isZero();
        JsonNode report = status.replies().get(0);
        assertThat(report.get("type").asText()).isEqualTo("status_ok");
        assertThat(report.get("operation_counts").get("done").asLong()).isEqualTo(doneBefore + 3);
        assertThat(report.get("migrations")).hasSize(3);
        assertThat(status.stderr()).contains("0002_scores: done, 4 of 4 operations");
    }

    @Test
    void aLockNotGrantedInTimeIsExit4AndTheRerunFinishesIt() throws Exception {
        Path dir = Files.createTempDirectory("zdm-migrations-");
        Files.writeString(dir.resolve("0001_locked.json"), """
                {"operations": [{"type": "add_column", "table": "accounts", "column": "locked_out",
                                 "max_lock_duration_ms": 300}]}""");
        try (Connection reader = connect(); Statement s = reader.createStatement()) {
            reader.setAutoCommit(false);
            s.execute("LOCK TABLE accounts IN ACCESS SHARE MODE");
            Run blocked = run("apply", dir.toString(), "--database", url);
            assertThat(blocked.exit()).as(blocked.stderr()).isEqualTo(4);
            assertThat(blocked.replies().get(0).get("code").asInt()).isEqualTo(14);
            reader.rollback();
        }
        assertThat(column("locked_out")).isZero();
        Run rerun = run("apply", dir.toString(), "--database", url);
        assertThat(rerun.exit()).as(rerun.stderr()).isZero();
        assertThat(column("locked_out")).isEqualTo(1);
    }

    /**
     * A deploy stopping {@code apply} with SIGTERM mid-batch: the batch's UPDATE is cancelled on the server
     * (no orphan statement keeps its row locks after zdm is gone), the interrupted migration's outcome is
     * printed, the JVM exits 143, and the same command resumes it.
     */
    @Test
    void sigtermMidBatchCancelsTheStatementPrintsTheOutcomeAndTheRerunFinishes() throws Exception {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE term_rows (id bigserial PRIMARY KEY, v integer NOT NULL DEFAULT 0)");
            s.execute("INSERT INTO term_rows (v) SELECT 0 FROM generate_series(1, 3000)");
            // 30 ms a row: the first batch (1000 rows, BatchSizer.FIRST_BATCH) would run 30 s on the server.
            s.execute("CREATE FUNCTION term_slow(integer) RETURNS integer LANGUAGE plpgsql"
                    + " AS $f$ BEGIN PERFORM pg_sleep(0.03); RETURN $1 + 1; END $f$");
        }
        Path dir = Files.createTempDirectory("zdm-migrations-");
        Files.writeString(dir.resolve("0001_term.json"), """
                {"operations": [{"type": "migrate_data", "table": "term_rows", "set": {"v": "term_slow(v)"},
                                 "batch_size": 3000, "batch_time_ms": 60000, "max_lock_duration_ms": 60000}]}""");
        String running = "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + DB + "' AND state = 'active'"
                + " AND query ILIKE '%term_slow%' AND pid <> pg_backend_pid()";
        Path err = Files.createTempFile("zdm-apply-", ".err");
        Path stdout = Files.createTempFile("zdm-apply-", ".out");
        Process process = new ProcessBuilder("java", "-jar", JAR.toString(), "apply", dir.toString(), "--database", url)
                .redirectError(err.toFile()).redirectOutput(stdout.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (number(running) < 1 && process.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(number(running)).as("the batch runs").isEqualTo(1);
        process.destroy(); // SIGTERM
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exits").isTrue();
        String stderr = Files.readString(err);
        String out = Files.readString(stdout);
        Files.delete(err);
        Files.delete(stdout);
        long left = number(running);
        for (int i = 0; i < 500 && left > 0; i++) {
            Thread.sleep(20);
            left = number(running);
        }

        assertThat(process.exitValue()).as(stderr).isEqualTo(143);
        assertThat(left).as("the batch's statement still running after zdm exited").isZero();
        assertThat(stderr).contains("SIGTERM: cancelling the statement backend")
                .contains("0001_term 1/1 migrate_data term_rows: FAILED, error 13")
                .contains("zdm apply: stopped at 0001_term (error 13)").contains("run the same command again to resume");
        JsonNode reply = Json.MAPPER.readTree(out.strip());
        assertThat(reply.get("code").asInt()).as(out).isEqualTo(13);
        assertThat(text("SELECT state || ': ' || detail FROM zdm.operations WHERE table_name = 'term_rows'"))
                .startsWith("failed: ").contains("interrupted");

        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("CREATE OR REPLACE FUNCTION term_slow(integer) RETURNS integer LANGUAGE plpgsql"
                    + " AS $f$ BEGIN RETURN $1 + 1; END $f$");
        }
        Run rerun = run("apply", dir.toString(), "--database", url);
        assertThat(rerun.exit()).as(rerun.stderr()).isZero();
        assertThat(number("SELECT count(*) FROM term_rows WHERE v <> 1")).isZero();
    }

    @Test
    void aBadCommandLineIsExit2AndAnUnreachableServerExit1() throws Exception {
        Run missing = run("apply", "/nonexistent/migrations", "--database", url);
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.stderr()).contains("is not a directory");
        assertThat(run("apply").exit()).isEqualTo(2);
        Run noDatabase = run("apply", Files.createTempDirectory("zdm-migrations-").toString());
        assertThat(noDatabase.exit()).as(noDatabase.stderr()).isEqualTo(2);
        assertThat(noDatabase.stderr()).contains("--database URL").contains("--schema-from URL");
        Run unreachable = run("status", "--database", "jdbc:postgresql://127.0.0.1:1/nothing?user=x");
        assertThat(unreachable.exit()).as(unreachable.stderr()).isEqualTo(1);
    }

    private static List<String> statuses(JsonNode reply) {
        List<String> statuses = new ArrayList<>();
        reply.get("operations").forEach(op -> statuses.add(op.get("status").asText()));
        return statuses;
    }

    private static Run run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("java", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        Path err = Files.createTempFile("zdm-apply-", ".err");
        Process process = new ProcessBuilder(command).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("exits").isTrue();
        List<JsonNode> replies = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                replies.add(Json.MAPPER.readTree(line));
            }
        }
        String stderr = Files.readString(err);
        Files.delete(err);
        return new Run(process.exitValue(), replies, stderr);
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection(url);
    }

    private static long column(String name) throws SQLException {
        return number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = '"
                + name + "' AND NOT attisdropped");
    }

    private static long number(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String text(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
