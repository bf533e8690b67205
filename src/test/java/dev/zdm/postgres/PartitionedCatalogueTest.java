package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.ServerVersion;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The catalogue operations on partitioned tables, on both engines (the simulator given this database's
 * schema as --schema-from reads it): what PostgreSQL refuses there is a 22 before anything runs, and
 * the locks a statement takes on partitions (its own, or a referenced table's) are the simulator's too.
 */
class PartitionedCatalogueTest extends OnEmbeddedPostgres {

    private static Node simulator() throws Exception {
        return simulator(engine.version());
    }

    private static Node simulator(ServerVersion version) throws Exception {
        Schema schema;
        try (Connection c = SharedPostgres.connect()) {
            schema = CatalogReader.read(c, line -> { });
        }
        return new Node(new SimulatorEngine(version, SimCatalog.of(schema, version), CostModel.DEFAULT,
                RetryPolicy.of(3)), BUDGET);
    }

    /** {@code t} partitioned by list (region), with a key, two partitions and 100 rows. */
    private static void partitioned(String t) {
        SharedPostgres.exec("DROP TABLE IF EXISTS " + t + " CASCADE",
                "CREATE TABLE " + t + " (id int NOT NULL, region text NOT NULL, city int, cid int,"
                        + " PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                "CREATE TABLE " + t + "_eu PARTITION OF " + t + " FOR VALUES IN ('eu')",
                "CREATE TABLE " + t + "_us PARTITION OF " + t + " FOR VALUES IN ('us')",
                "INSERT INTO " + t + " SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, g, g"
                        + " FROM generate_series(1, 100) g",
                "ANALYZE " + t);
    }

    @Test
    void dropColumnOfAPartitionedTableNamesItsPartitionedIndex() throws Exception {
        partitioned("pc_dc");
        SharedPostgres.exec("CREATE INDEX pc_dc_city_idx ON pc_dc (city)");
        Node simulator = simulator();
        for (Node on : List.of(simulator, node)) {
            ObjectNode reply = on.send("""
                    {"type":"drop_column","table":"pc_dc","column":"city"}""");
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(22);
            assertThat(reply.get("text").asText()).contains("index pc_dc_city_idx").contains("cascade");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_class WHERE relname LIKE 'pc_dc%city_idx'")).isEqualTo(3);
    }

    @Test
    void dropIndexOfAPartitionedIndexIsPlainAndLocksEveryPartitionAnAttachedOneIsRefused() throws Exception {
        partitioned("pc_di");
        SharedPostgres.exec("CREATE INDEX pc_di_city_idx ON pc_di (city)");
        Node simulator = simulator();
        for (Node on : List.of(simulator, node)) {
            ObjectNode refused = on.send("""
                    {"type":"drop_index","index":"pc_di_eu_city_idx"}""");
            assertThat(refused.path("code").asInt()).as(refused.toString()).isEqualTo(22);
            assertThat(refused.get("text").asText()).contains("pc_di_city_idx");
        }
        ObjectNode explained = simulator.send("""
                {"type":"drop_index","index":"pc_di_city_idx","plan":true,"explain":true}""");
        assertThat(explained.toString()).as(explained.toString()).contains("also_locks").contains("pc_di_us")
                .doesNotContain("CONCURRENTLY").contains("every partition");
        for (Node on : List.of(node, simulator)) {
            on.send("""
                    {"type":"open_transaction","session":"di_reader","table":"pc_di_us","mode":"ACCESS SHARE"}""");
            ObjectNode blocked;
            try {
                blocked = on.send("""
                        {"type":"drop_index","index":"pc_di_city_idx","max_lock_duration_ms":300}""");
            } finally {
                on.send("""
                        {"type":"close_transaction","session":"di_reader"}""");
            }
            assertThat(blocked.path("code").asInt()).as(blocked.toString()).isEqualTo(14);
            assertThat(blocked.get("table").asText()).as(blocked.toString()).isEqualTo("pc_di_us");
        }
        List<Boolean> locked = new java.util.ArrayList<>();
        for (Node on : List.of(simulator, node)) {
            ObjectNode dropped = on.send("""
                    {"type":"drop_index","index":"pc_di_city_idx"}""");
            assertThat(dropped.get("type").asText()).as(dropped.toString()).isEqualTo("index_dropped");
            locked.add(dropped.get("table_locked").asBoolean());
        }
        assertThat(locked.get(0)).as("table_locked, simulator and server").isEqualTo(locked.get(1));
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_class WHERE relname LIKE 'pc_di%city_idx'")).isZero();
    }

    @Test
    void aUniqueKeyOnAPartitionedTableIsRefusedWithAWayThatWorks() throws Exception {
        partitioned("pc_uq");
        Node simulator = simulator();
        for (Node on : List.of(simulator, node)) {
            ObjectNode reply = on.send("""
                    {"type":"add_constraint","table":"pc_uq","constraint":"pc_uq_cid","constraint_type":"unique",
                     "columns":["cid","region"]}""");
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(22);
            assertThat(reply.get("text").asText()).contains("partitioned").contains("pc_uq_eu").contains("pc_uq_us");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_class WHERE relname = 'pc_uq_cid'")).isZero();
        // The way the refusal gives: each partition's key the safe way, then the parent's ADD adopts them.
        for (String partition : List.of("pc_uq_eu", "pc_uq_us")) {
            ObjectNode added = node.send("""
                    {"type":"add_constraint","table":"%s","constraint":"%s_cid","constraint_type":"unique",
                     "columns":["cid","region"]}""".formatted(partition, partition));
            assertThat(added.get("type").asText()).as(added.toString()).isEqualTo("constraint_added");
        }
        SharedPostgres.exec("ALTER TABLE pc_uq ADD CONSTRAINT pc_uq_cid UNIQUE (cid, region)");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conname IN ('pc_uq_eu_cid', 'pc_uq_us_cid')"
                + " AND conparentid = (SELECT oid FROM pg_constraint WHERE conname = 'pc_uq_cid')")).isEqualTo(2);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_class WHERE relname LIKE 'pc_uq_%cid%'"
                + " AND relkind = 'i'")).as("no index built besides the partitions' own").isEqualTo(2);
    }

    @Test
    void aForeignKeyFromAPartitionedTableNeedsPostgres18() throws Exception {
        partitioned("pc_fkref");
        partitioned("pc_fk");
        String request = """
                {"type":"add_constraint","table":"pc_fk","constraint":"pc_fk_ref","constraint_type":"foreign_key",
                 "columns":["cid","region"],"references":{"table":"pc_fkref","columns":["id","region"]}}""";
        ObjectNode on15 = simulator(new ServerVersion(15)).send(request);
        assertThat(on15.path("code").asInt()).as(on15.toString()).isEqualTo(22);
        assertThat(on15.get("text").asText()).contains("PostgreSQL 18").contains("pc_fk_eu").contains("pc_fk_us");
        Node simulator = simulator();
        for (Node on : List.of(simulator, node)) {
            ObjectNode reply = on.send(request);
            if (engine.version().notValidForeignKeyOnPartitioned()) {
                assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("constraint_added");
            } else {
                assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(22);
            }
        }
    }

    /** A holder on a partition of the referenced (partitioned) table stops what locks it: seen in pg_locks on 15. */
    @Test
    void aHolderOnAPartitionOfTheReferencedTableStopsForeignKeysAndAPlainIndexBuild() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS pc_ord, pc_ord2");
        partitioned("pc_cust");
        SharedPostgres.exec("DROP TABLE IF EXISTS pc_ord, pc_ord2",
                "CREATE TABLE pc_ord (id int PRIMARY KEY, cid int, region text)",
                "CREATE TABLE pc_ord2 (id int PRIMARY KEY, cid int, region text,"
                        + " CONSTRAINT pc_ord2_fk FOREIGN KEY (cid, region) REFERENCES pc_cust (id, region))");
        Node simulator = simulator();
        List<String> requests = List.of("""
                {"type":"add_constraint","table":"pc_ord","constraint":"pc_ord_fk","constraint_type":"foreign_key",
                 "columns":["cid","region"],"references":{"table":"pc_cust","columns":["id","region"]},
                 "max_lock_duration_ms":300}""", """
                {"type":"drop_constraint","table":"pc_ord2","constraint":"pc_ord2_fk","max_lock_duration_ms":300}""", """
                {"type":"create_index","table":"pc_cust","column":"city","concurrently":false,"max_lock_duration_ms":300}""");
        for (Node on : List.of(node, simulator)) {
            for (String request : requests) {
                on.send("""
                        {"type":"open_transaction","session":"cust_writer","table":"pc_cust_us","mode":"ROW EXCLUSIVE"}""");
                ObjectNode reply;
                try {
                    reply = on.send(request);
                } finally {
                    on.send("""
                            {"type":"close_transaction","session":"cust_writer"}""");
                }
                assertThat(reply.path("code").asInt()).as(request + " → " + reply).isEqualTo(14);
                assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("pc_cust_us");
            }
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conname IN ('pc_ord_fk', 'pc_ord2_fk')"))
                .isEqualTo(1);
        // VALIDATE reads the referenced partitions under ACCESS SHARE: only an ACCESS EXCLUSIVE holder stops it.
        ObjectNode notValid = node.send("""
                {"type":"add_constraint","table":"pc_ord","constraint":"pc_ord_fk","constraint_type":"foreign_key",
                 "columns":["cid","region"],"references":{"table":"pc_cust","columns":["id","region"]},"validate":false}""");
        assertThat(notValid.get("type").asText()).as(notValid.toString()).isEqualTo("constraint_added");
        Node afterwards = simulator();
        for (Node on : List.of(node, afterwards)) {
            on.send("""
                    {"type":"open_transaction","session":"cust_owner","table":"pc_cust_eu","mode":"ACCESS EXCLUSIVE"}""");
            ObjectNode reply;
            try {
                reply = on.send("""
                        {"type":"validate_constraint","table":"pc_ord","constraint":"pc_ord_fk","max_lock_duration_ms":300}""");
            } finally {
                on.send("""
                        {"type":"close_transaction","session":"cust_owner"}""");
            }
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("pc_cust_eu");
        }
    }
}
