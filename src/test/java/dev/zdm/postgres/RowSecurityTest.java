package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engines;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.schema.CatalogReader;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Row-level security that applies to zdm's role (its owner's table with FORCE ROW LEVEL SECURITY): an
 * UPDATE there changes only the rows the policies show, so a migrate_data or an add_column backfill
 * would report done with rows never touched. Both are refused (22) before anything runs; once the
 * policies no longer apply to the role, every row is changed.
 */
class RowSecurityTest extends OnScratchDatabase {

    private static final String DB = "zdm_rls";
    private static final String OWNER = "zdm_rls_owner";

    @BeforeAll
    static void start() throws Engines.StartFailed {
        Database scratch = ScratchDatabase.create(DB, OWNER);
        connect(scratch);
    }

    @Test
    void aJobThePoliciesWouldHideRowsFromIsRefusedBeforeItRuns() throws Exception {
        ScratchDatabase.exec(database, "DROP TABLE IF EXISTS rls",
                "CREATE TABLE rls (id int PRIMARY KEY, owner text, n int)",
                "INSERT INTO rls SELECT g, CASE WHEN g % 2 = 0 THEN current_user ELSE 'other' END, 0"
                        + " FROM generate_series(1, 100) g",
                "ALTER TABLE rls ENABLE ROW LEVEL SECURITY", "ALTER TABLE rls FORCE ROW LEVEL SECURITY",
                "CREATE POLICY p ON rls USING (owner = current_user)");
        SimulatorEngine simulator;
        try (Connection c = database.connect("zdm-test")) {
            simulator = new SimulatorEngine(engine.version(), SimCatalog.of(CatalogReader.read(c, line -> { }),
                    engine.version()), CostModel.DEFAULT, RetryPolicy.of(3));
        }
        Node predicting = new Node(simulator, Duration.ofSeconds(2));
        ObjectNode predicted = predicting.send("""
                {"type":"migrate_data","table":"rls","set":{"n":"1"},"batch_size":10}""");
        assertThat(predicted.path("code").asInt()).as(predicted.toString()).isEqualTo(22);
        assertThat(predicted.get("text").asText()).contains("row-level security");
        ObjectNode predictedAdd = predicting.send("""
                {"type":"add_column","table":"rls","column":"u","data_type":"float8","default_sql":"random()",
                 "nullable":false}""");
        assertThat(predictedAdd.path("code").asInt()).as(predictedAdd.toString()).isEqualTo(22);

        ObjectNode migrate = node.send("""
                {"type":"migrate_data","table":"rls","set":{"n":"1"},"batch_size":10}""");
        assertThat(migrate.path("code").asInt()).as(migrate.toString()).isEqualTo(22);
        assertThat(migrate.get("text").asText()).contains("row-level security", "BYPASSRLS");
        ObjectNode add = node.send("""
                {"type":"add_column","table":"rls","column":"u","data_type":"float8","default_sql":"random()",
                 "nullable":false}""");
        assertThat(add.path("code").asInt()).as(add.toString()).isEqualTo(22);
        assertThat(add.get("text").asText()).contains("row-level security");
        ScratchDatabase.exec(database, "ALTER TABLE rls NO FORCE ROW LEVEL SECURITY");
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM rls WHERE n = 1")).isEqualTo("0");
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'rls'::regclass"
                + " AND attname = 'u'")).isEqualTo("0");

        ObjectNode owner = node.send("""
                {"type":"migrate_data","table":"rls","set":{"n":"1"},"batch_size":10}""");
        assertThat(owner.path("type").asText()).as(owner.toString()).isEqualTo("data_migrated");
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM rls WHERE n = 1")).isEqualTo("100");
    }
}
