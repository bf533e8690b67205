package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A batch's key position is the key's text: a database default that changes how a key prints (a float
 * rounded by extra_float_digits, an interval under another IntervalStyle) must not make zdm skip rows.
 */
class KeyTextSettingsTest {

    private static final String DB = "zdm_key_text";
    private static final String OWNER = "zdm_key_text_owner";
    private static Database database;

    @BeforeAll
    static void database() {
        database = ScratchDatabase.create(DB, OWNER);
    }

    @Test
    void floatKeysRoundedByExtraFloatDigitsAreEachMigratedOnce() throws Exception {
        SharedPostgres.exec("ALTER DATABASE " + DB + " SET extra_float_digits = -10");
        ScratchDatabase.exec(database, "DROP TABLE IF EXISTS fkey",
                "CREATE TABLE fkey (id float8 PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO fkey (id) SELECT 1 + g * 1e-13 FROM generate_series(1, 500) g");
        try (Connection plain = ScratchDatabase.plainConnection(database); Statement s = plain.createStatement();
             var rs = s.executeQuery("SELECT count(DISTINCT id::text) FROM fkey")) {
            rs.next();
            assertThat(rs.getLong(1)).as("the keys' text under the database's default").isLessThan(500);
        }
        try (PostgresEngine engine = PostgresEngine.connect(database, 3)) {
            Node node = new Node(engine, Duration.ofSeconds(2));
            ObjectNode migrated = node.send("""
                    {"type":"migrate_data","table":"fkey","batch_size":50,"set":{"n":"n + 1"}}""");
            assertThat(migrated.get("type").asText()).as(migrated.toString()).isEqualTo("data_migrated");
            assertThat(migrated.get("total_rows").asLong()).as(migrated.toString()).isEqualTo(500);
            ObjectNode added = node.send("""
                    {"type":"add_column","table":"fkey","column":"one","data_type":"int","default_sql":"floor(random())::int + 1",
                     "nullable":false}""");
            assertThat(added.get("type").asText()).as(added.toString()).isEqualTo("column_added");
        }
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM fkey WHERE n = 1")).isEqualTo("500");
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM fkey WHERE one = 1")).isEqualTo("500");
    }

    @Test
    void anIntervalKeysPositionReadsBackTheSameAfterIntervalStyleChanges() throws Exception {
        SharedPostgres.exec("ALTER DATABASE " + DB + " SET IntervalStyle = 'sql_standard'");
        // -g days -23 hours: sql_standard prints it '-g 23:00:00', which other styles read as -g days +23 hours,
        // past the next key (-(g-1) days -23 hours).
        ScratchDatabase.exec(database, "DROP TABLE IF EXISTS ikey",
                "CREATE TABLE ikey (id interval PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO ikey (id) SELECT make_interval(days => -g, hours => -23) FROM generate_series(1, 100) g");
        String request = """
                {"type":"migrate_data","table":"ikey","batch_size":10,"max_lock_duration_ms":300,"set":{"n":"n + 1"}}""";
        try (Connection app = ScratchDatabase.plainConnection(database)) {
            app.setAutoCommit(false);
            try (Statement s = app.createStatement()) {
                // Keys ascend from -100 days: the 60th is -41 days -23 h.
                s.execute("SELECT 1 FROM ikey WHERE id = make_interval(days => -41, hours => -23) FOR UPDATE");
            }
            try (PostgresEngine engine = PostgresEngine.connect(database, 3)) {
                ObjectNode stopped = new Node(engine, Duration.ofSeconds(2)).send(request);
                assertThat(stopped.get("code").asInt()).as(stopped.toString()).isEqualTo(14);
                assertThat(stopped.get("total_rows").asLong()).as(stopped.toString()).isEqualTo(59);
            }
            app.rollback();
        }
        SharedPostgres.exec("ALTER DATABASE " + DB + " SET IntervalStyle = 'iso_8601'");
        try (PostgresEngine engine = PostgresEngine.connect(database, 3)) {
            ObjectNode resent = new Node(engine, Duration.ofSeconds(2)).send(request);
            assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("data_migrated");
        }
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM ikey WHERE n = 1")).isEqualTo("100");
    }
}
