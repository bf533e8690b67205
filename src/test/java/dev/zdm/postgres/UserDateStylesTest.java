package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engines;
import dev.zdm.pg.DataType;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A database whose DateStyle reads day first and whose IntervalStyle is sql_standard (what initdb gives
 * en_GB or de_DE, what a DBA sets): the constants users write in default, set and where mean what they
 * mean in psql on that database, on every connection zdm opens, the --schema-from probe's too.
 */
class UserDateStylesTest extends OnScratchDatabase {

    private static final String DB = "zdm_user_styles";
    private static final String OWNER = "zdm_user_styles_owner";

    @BeforeAll
    static void dayFirstDatabase() throws Engines.StartFailed {
        Database scratch = ScratchDatabase.create(DB, OWNER);
        SharedPostgres.exec(
                "ALTER DATABASE " + DB + " SET DateStyle = 'ISO, DMY'",
                "ALTER DATABASE " + DB + " SET IntervalStyle = 'sql_standard'");
        connect(scratch);
        ScratchDatabase.exec(database,
                "CREATE TABLE t (id int PRIMARY KEY, d date, i interval)",
                "INSERT INTO t (id) SELECT g FROM generate_series(1, 10) g");
    }

    @Test
    void addColumnsDefaultIsReadDayFirst() {
        ObjectNode added = node.send("""
                {"type":"add_column","table":"t","column":"d2","data_type":"date","default":"01/03/2024"}""");
        assertThat(added.get("type").asText()).as(added.toString()).isEqualTo("column_added");
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM t WHERE d2 = DATE '2024-03-01'")).isEqualTo("10");
    }

    @Test
    void aDateThatOnlyReadsDayFirstIsNotRefused() {
        ObjectNode added = node.send("""
                {"type":"add_column","table":"t","column":"d3","data_type":"date","default":"31/12/2024"}""");
        assertThat(added.get("type").asText()).as(added.toString()).isEqualTo("column_added");
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM t WHERE d3 = DATE '2024-12-31'")).isEqualTo("10");
    }

    @Test
    void migrateDataSetAndWhereAreReadInTheDatabasesStyles() {
        ObjectNode migrated = node.send("""
                {"type":"migrate_data","table":"t","batch_size":3,"where":"id <= 5 OR d = '02/03/2024'",
                 "set":{"d":"'02/03/2024'","i":"'-1 2:00:00'"}}""");
        assertThat(migrated.get("type").asText()).as(migrated.toString()).isEqualTo("data_migrated");
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM t WHERE d = DATE '2024-03-02'")).isEqualTo("5");
        // sql_standard reads a leading minus as the sign of every field: -1 day -2 hours.
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM t WHERE i = make_interval(days => -1, hours => -2)"))
                .isEqualTo("5");
    }

    @Test
    void createTablesDefaultIsReadDayFirst() {
        ObjectNode created = node.send("""
                {"type":"create_table","table":"c","columns":{"id":{"type":"int"},
                 "d":{"type":"date","default":"02/03/2024"}},"primary_key":["id"]}""");
        assertThat(created.get("type").asText()).as(created.toString()).isEqualTo("table_created");
        ScratchDatabase.exec(database, "INSERT INTO c (id) VALUES (1)");
        assertThat(ScratchDatabase.text(database, "SELECT d FROM c")).isEqualTo("2024-03-02");
    }

    @Test
    void theSchemaFromProbeAsksInTheDatabasesOrder() throws Exception {
        String url = "postgresql://localhost:" + SharedPostgres.port() + "/" + DB + "?user=" + OWNER;
        assertThat(dev.zdm.schema.InputFunctionProbe.refusal(url, DataType.of("date"), "31/12/2024")).isEmpty();
        assertThat(dev.zdm.schema.InputFunctionProbe.refusal(url, DataType.of("date"), "12/31/2024")).isPresent();
    }

    @Test
    void zdmsOwnConnectionsStillPrintIso() throws Exception {
        try (Connection c = database.connect("zdm-test"); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT current_setting('DateStyle'), '02/03/2024'::date::text")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("ISO, DMY");
            assertThat(rs.getString(2)).isEqualTo("2024-03-02");
        }
    }
}
