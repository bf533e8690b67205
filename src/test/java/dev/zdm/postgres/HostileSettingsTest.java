package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engines;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A legacy database whose defaults zdm does not own (issue 12, items 1 and 9): standard_conforming_strings
 * off, statement and idle-in-transaction timeouts, a lock_timeout and serializable transactions, for a
 * role without superuser. zdm's own session settings make each of them irrelevant to it.
 */
class HostileSettingsTest extends OnScratchDatabase {

    private static final String DB = "zdm_hostile";
    private static final String OWNER = "zdm_hostile_owner";

    @BeforeAll
    static void legacyDatabase() throws Engines.StartFailed {
        Database scratch = ScratchDatabase.create(DB, OWNER);
        SharedPostgres.exec(
                "ALTER DATABASE " + DB + " SET standard_conforming_strings = off",
                "ALTER DATABASE " + DB + " SET statement_timeout = '300ms'",
                "ALTER DATABASE " + DB + " SET idle_in_transaction_session_timeout = '200ms'",
                "ALTER DATABASE " + DB + " SET lock_timeout = '1ms'",
                "ALTER DATABASE " + DB + " SET default_transaction_isolation = 'serializable'");
        connect(scratch);
    }

    @AfterAll
    static void resetRole() {
        SharedPostgres.exec("ALTER ROLE " + OWNER + " RESET statement_timeout");
    }

    private static void table(String name, int rows) {
        ScratchDatabase.exec(database, "DROP TABLE IF EXISTS " + name,
                "CREATE TABLE " + name + " (id bigserial PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO " + name + " (n) SELECT 0 FROM generate_series(1, " + rows + ")");
    }

    @Test
    void aConstantWithABackslashIsTheColumnsTextAndNothingElseUnderStandardConformingStringsOff() throws SQLException {
        try (Connection plain = ScratchDatabase.plainConnection(database); Statement s = plain.createStatement();
             var rs = s.executeQuery("SHOW standard_conforming_strings")) {
            rs.next();
            assertThat(rs.getString(1)).as("the database's default a plain client gets").isEqualTo("off");
        }
        table("inj", 100);
        ScratchDatabase.exec(database, "CREATE TABLE IF NOT EXISTS victim (id int)");
        String hostile = "\\'; DROP TABLE victim; --";

        ObjectNode reply = node.send("""
                {"type":"add_column","table":"inj","column":"note","data_type":"text","default":%s,"nullable":false}"""
                .formatted(dev.zdm.protocol.Json.MAPPER.valueToTree(hostile).toString()));

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
        assertThat(ScratchDatabase.text(database, "SELECT to_regclass('victim')::text")).isEqualTo("victim");
        assertThat(ScratchDatabase.text(database, "SELECT string_agg(DISTINCT note, '|') FROM inj")).isEqualTo(hostile);
        ScratchDatabase.exec(database, "INSERT INTO inj DEFAULT VALUES");
        assertThat(ScratchDatabase.text(database, "SELECT note FROM inj ORDER BY id DESC LIMIT 1")).isEqualTo(hostile);
    }

    /** Longer than any timeout of the test: a statement that sleeps this long is cancelled under them. */
    private static void assertDefaultCancels(String level) throws SQLException {
        try (Connection plain = ScratchDatabase.plainConnection(database); Statement s = plain.createStatement()) {
            assertThatThrownBy(() -> s.execute("SELECT pg_sleep(0.6)")).as(level + " statement_timeout")
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"database", "role"})
    void operationsLongerThanADefaultStatementTimeoutFinish(String level) throws Exception {
        if (level.equals("role")) {
            // The role's setting wins over the database's; the database's is then off to show the role's alone.
            SharedPostgres.exec("ALTER DATABASE " + DB + " RESET statement_timeout",
                    "ALTER ROLE " + OWNER + " SET statement_timeout = '300ms'");
        }
        try (PostgresEngine own = PostgresEngine.connect(database, 3)) {
            Node fresh = new Node(own, Duration.ofSeconds(2));
            assertDefaultCancels(level);
            // Index names are the schema's: the other level's table (and its idx_n) goes first.
            ScratchDatabase.exec(database, "DROP TABLE IF EXISTS slow_database, slow_role");
            table("slow_" + level, 600);
            // Each row takes 2 ms: a batch of 300 rows is a 600 ms statement.
            ScratchDatabase.exec(database, "CREATE OR REPLACE FUNCTION slow_next(v int) RETURNS int VOLATILE"
                    + " LANGUAGE sql AS 'SELECT pg_sleep(0.002); SELECT v + 1'",
                    "CREATE OR REPLACE FUNCTION slow_one() RETURNS int VOLATILE"
                    + " LANGUAGE sql AS 'SELECT pg_sleep(0.002); SELECT 1'");

            ObjectNode migrated = fresh.send("""
                    {"type":"migrate_data","table":"slow_%s","batch_size":300,"set":{"n":"slow_next(n)"}}""".formatted(level));
            assertThat(migrated.get("type").asText()).as(migrated.toString()).isEqualTo("data_migrated");
            assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM slow_" + level + " WHERE n = 1")).isEqualTo("600");

            ObjectNode added = fresh.send("""
                    {"type":"add_column","table":"slow_%s","column":"one","data_type":"int","default_sql":"slow_one()",
                     "nullable":false}""".formatted(level));
            assertThat(added.get("type").asText()).as(added.toString()).isEqualTo("column_added");
            assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM slow_" + level + " WHERE one = 1")).isEqualTo("600");

            // A writer holds ROW EXCLUSIVE for 1 s: the concurrent build waits that long, under the 2 s budget.
            ObjectNode opened = fresh.send("""
                    {"type":"open_transaction","session":"writer_%s","table":"slow_%s","mode":"ROW EXCLUSIVE",
                     "duration_seconds":1.0}""".formatted(level, level));
            assertThat(opened.get("type").asText()).as(opened.toString()).isEqualTo("transaction_opened");
            ObjectNode indexed = fresh.send("""
                    {"type":"create_index","table":"slow_%s","column":"n","concurrently":true}""".formatted(level));
            assertThat(indexed.get("type").asText()).as(indexed.toString()).isEqualTo("index_created");
            assertThat(ScratchDatabase.text(database, "SELECT indisvalid::text FROM pg_index"
                    + " WHERE indrelid = 'slow_" + level + "'::regclass AND NOT indisprimary")).isEqualTo("true");
        } finally {
            SharedPostgres.exec("ALTER ROLE " + OWNER + " RESET statement_timeout",
                    "ALTER DATABASE " + DB + " SET statement_timeout = '300ms'");
        }
    }

    @Test
    void anOpenTransactionOutlivesTheDatabasesIdleInTransactionTimeout() throws Exception {
        try (Connection plain = ScratchDatabase.plainConnection(database); Statement s = plain.createStatement()) {
            plain.setAutoCommit(false);
            s.execute("SELECT 1");
            Thread.sleep(700);
            assertThatThrownBy(() -> s.execute("SELECT 1")).as("the database's idle_in_transaction_session_timeout")
                    .isInstanceOf(SQLException.class);
        }
        table("idle_tx", 10);

        ObjectNode opened = node.send("""
                {"type":"open_transaction","session":"long_idle","table":"idle_tx"}""");
        assertThat(opened.get("type").asText()).as(opened.toString()).isEqualTo("transaction_opened");
        Thread.sleep(700);

        assertThat(ScratchDatabase.text(database, "SELECT state FROM pg_stat_activity"
                + " WHERE application_name = 'zdm-session:long_idle'")).isEqualTo("idle in transaction");
        ObjectNode closed = node.send("""
                {"type":"close_transaction","session":"long_idle"}""");
        assertThat(closed.get("type").asText()).as(closed.toString()).isEqualTo("transaction_closed");
    }

    @Test
    void everyConnectionCarriesZdmsSettingsNotTheDatabases() throws SQLException {
        try (Connection c = database.connect("zdm-check"); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT current_setting('standard_conforming_strings'),"
                     + " current_setting('statement_timeout'), current_setting('lock_timeout'),"
                     + " current_setting('idle_in_transaction_session_timeout'),"
                     + " current_setting('default_transaction_isolation'), current_setting('application_name')")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("on");
            assertThat(rs.getString(2)).isEqualTo("0");
            assertThat(rs.getString(3)).isEqualTo("0");
            assertThat(rs.getString(4)).isEqualTo("0");
            assertThat(rs.getString(5)).isEqualTo("read committed");
            assertThat(rs.getString(6)).isEqualTo("zdm-check");
        }
    }
}
