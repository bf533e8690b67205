package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A partition owned by another role (pg_partman-style): PostgreSQL checks only the parent's rights for
 * an UPDATE or CREATE INDEX of the parent, while zdm acts on each partition directly. The real engine
 * checks each partition's rights before running and refuses 22 naming it (the simulator too, from the
 * rights --schema-from reads), instead of failing mid-way
 * after the first partition's batches committed.
 */
class PartitionRightsTest {

    private static final Duration BUDGET = Duration.ofSeconds(5);

    @Test
    void aPartitionTheRoleMayNotChangeIsRefusedByNameBeforeAnyRow() throws Exception {
        exec("DROP DATABASE IF EXISTS pr_db", "DROP ROLE IF EXISTS pr_tenant",
                "CREATE ROLE pr_tenant LOGIN PASSWORD 'pr_tenant' NOSUPERUSER NOCREATEDB NOCREATEROLE",
                "CREATE DATABASE pr_db OWNER pr_tenant");
        try (Connection c = ScratchDatabase.withPassword("pr_db", null).connect("zdm-test"); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA \"Ten ant\" AUTHORIZATION pr_tenant");
            s.execute("SET ROLE pr_tenant");
            s.execute("CREATE TABLE \"Ten ant\".pt (id int NOT NULL, k int NOT NULL, v int NOT NULL DEFAULT 0,"
                    + " PRIMARY KEY (id, k)) PARTITION BY LIST (k)");
            s.execute("CREATE TABLE \"Ten ant\".pt_1 PARTITION OF \"Ten ant\".pt FOR VALUES IN (1)");
            s.execute("RESET ROLE");
            // Made by the superuser: owned by it, no grant to the tenant.
            s.execute("CREATE TABLE \"Ten ant\".pt_2 PARTITION OF \"Ten ant\".pt FOR VALUES IN (2)");
            s.execute("INSERT INTO \"Ten ant\".pt (id, k) SELECT g, 1 + g % 2 FROM generate_series(1, 100) g");
        }
        Database tenant = ScratchDatabase.withPassword("pr_db", "pr_tenant");
        try (Connection c = tenant.connect("zdm-test"); Statement s = c.createStatement()) {
            // PostgreSQL's own statement on the parent passes: it checks the parent's rights only.
            s.execute("BEGIN");
            assertThat(s.executeUpdate("UPDATE \"Ten ant\".pt SET v = v")).isEqualTo(100);
            s.execute("ROLLBACK");
        }
        try (PostgresEngine engine = PostgresEngine.connect(tenant, 3)) {
            Schema schema;
            try (Connection c = tenant.connect("zdm-test")) {
                schema = CatalogReader.read(c, line -> { });
            }
            // The simulator as --schema-from makes it, reading the tenant's rights, and the real engine.
            Node simulator = new Node(new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()),
                    CostModel.DEFAULT, RetryPolicy.of(3)), BUDGET);
            for (Node node : List.of(simulator, new Node(engine, BUDGET))) {
                ObjectNode migrated = node.send("""
                        {"type":"migrate_data","schema":"Ten ant","table":"pt","set":{"v":"v + 1"},"batch_size":10}""");
                assertThat(migrated.path("code").asInt()).as(migrated.toString()).isEqualTo(22);
                assertThat(migrated.get("text").asText()).as(migrated.toString()).contains("lacks UPDATE")
                        .contains("pt_2").contains("each table's own rights");
                ObjectNode index = node.send("""
                        {"type":"create_index","schema":"Ten ant","table":"pt","column":"v","index":"pt_v_zdm"}""");
                assertThat(index.path("code").asInt()).as(index.toString()).isEqualTo(22);
                assertThat(index.get("text").asText()).as(index.toString()).contains("lacks ownership").contains("pt_2");
                ObjectNode added = node.send("""
                        {"type":"add_column","schema":"Ten ant","table":"pt","column":"u","data_type":"uuid","default_sql":"gen_random_uuid()"}""");
                assertThat(added.path("code").asInt()).as(added.toString()).isEqualTo(22);
            }
        }
        try (Connection c = ScratchDatabase.withPassword("pr_db", null).connect("zdm-test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE v <> 0),"
                     + " (SELECT count(*) FROM pg_class WHERE relname LIKE 'pt_%v%') FROM \"Ten ant\".pt")) {
            rs.next();
            assertThat(rs.getLong(1)).as("no partition's rows touched").isZero();
            assertThat(rs.getLong(2)).as("no index built on any partition").isZero();
        }
    }
}
