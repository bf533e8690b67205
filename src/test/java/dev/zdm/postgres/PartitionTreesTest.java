package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Issue 13: migrate_data and add_column over partition trees and inheritance, on both engines (the
 * simulator given the schema --schema-from reads of this database): totals as PostgreSQL counts them,
 * add_column refused on a partition, and locks that reach the whole tree.
 */
class PartitionTreesTest extends OnEmbeddedPostgres {

    /** batch_time_ms far above what these batches take, so every batch is batch_size and counts are exact. */
    private static final int BATCH = 130;

    /** The simulator as --schema-from makes it, on this database's schema as it is now. */
    private static Node simulator() throws Exception {
        Schema schema;
        try (Connection c = SharedPostgres.connect()) {
            schema = CatalogReader.read(c, line -> { });
        }
        return new Node(new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()), CostModel.DEFAULT,
                RetryPolicy.of(3)), BUDGET);
    }

    /** eu 1,000 rows, us 700, and "other" itself partitioned by range with 300 rows in one leaf. */
    private static void partitioned(String t) {
        SharedPostgres.exec("DROP TABLE IF EXISTS " + t + " CASCADE",
                "CREATE TABLE " + t + " (id bigint NOT NULL, region text NOT NULL, n int NOT NULL DEFAULT 0,"
                        + " PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                "CREATE TABLE " + t + "_eu PARTITION OF " + t + " FOR VALUES IN ('eu')",
                "CREATE TABLE " + t + "_us PARTITION OF " + t + " FOR VALUES IN ('us')",
                "CREATE TABLE " + t + "_other PARTITION OF " + t + " FOR VALUES IN ('other') PARTITION BY RANGE (id)",
                "CREATE TABLE " + t + "_other_low PARTITION OF " + t + "_other FOR VALUES FROM (0) TO (1000000)",
                "INSERT INTO " + t + " (id, region) SELECT g, 'eu' FROM generate_series(1, 1000) g",
                "INSERT INTO " + t + " (id, region) SELECT g, 'us' FROM generate_series(1, 700) g",
                "INSERT INTO " + t + " (id, region) SELECT g, 'other' FROM generate_series(1, 300) g",
                "ANALYZE " + t);
    }

    @Test
    void migrateDataOverAPartitionedTableWalksEachPartitionAndCountsEveryRow() throws Exception {
        partitioned("pt_mig");
        Node simulator = simulator();
        String request = """
                {"type":"migrate_data","table":"pt_mig","set":{"n":"n + 1"},"batch_size":%d,"batch_time_ms":500}""".formatted(BATCH);
        ObjectNode predicted = simulator.send(request);
        ObjectNode real = node.send(request);
        assertThat(real.get("type").asText()).as(real.toString()).isEqualTo("data_migrated");
        assertThat(real.get("total_rows").asLong()).as(real.toString()).isEqualTo(2_000);
        // Batches within one partition: 1,000, 700 and 300 rows each in batches of 130.
        assertThat(real.get("batches").asInt()).isEqualTo(8 + 6 + 3);
        assertThat(predicted.get("total_rows").asLong()).as(predicted.toString()).isEqualTo(2_000);
        assertThat(predicted.get("batches").asInt()).isEqualTo(8 + 6 + 3);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pt_mig WHERE n <> 1")).isZero();
        // The same request again answers its totals and updates nothing twice.
        ObjectNode again = node.send(request);
        assertThat(again.get("total_rows").asLong()).as(again.toString()).isEqualTo(2_000);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pt_mig WHERE n <> 1")).isZero();
        ObjectNode explained = simulator.send(request
                .replace("\"set\"", "\"plan\":true,\"explain\":true,\"set\""));
        assertThat(explained.toString()).contains("pt_mig_eu").contains("pt_mig_us").contains("pt_mig_other_low")
                .doesNotContain("UPDATE \\\"pt_mig\\\"");
    }

    @Test
    void migrateDataOverAnInheritanceParentIncludesItsChildrenEachAlongItsOwnKey() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS inh_parent CASCADE",
                "CREATE TABLE inh_parent (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "CREATE TABLE inh_child (extra text) INHERITS (inh_parent)",
                "ALTER TABLE inh_child ADD PRIMARY KEY (id)",
                "INSERT INTO inh_parent (id) SELECT g FROM generate_series(1, 100) g",
                // The same keys as the parent's: a walk of the parent along its key must not take them for its own.
                "INSERT INTO inh_child (id) SELECT g FROM generate_series(1, 200) g",
                "ANALYZE inh_parent", "ANALYZE inh_child");
        Node simulator = simulator();
        String request = """
                {"type":"migrate_data","table":"inh_parent","set":{"n":"n + 1"},"batch_size":40,"batch_time_ms":500}""";
        ObjectNode predicted = simulator.send(request);
        ObjectNode real = node.send(request);
        assertThat(real.get("total_rows").asLong()).as(real.toString()).isEqualTo(300);
        assertThat(predicted.get("total_rows").asLong()).as(predicted.toString()).isEqualTo(300);
        assertThat(real.get("batches").asInt()).isEqualTo(3 + 5);
        assertThat(predicted.get("batches").asInt()).isEqualTo(3 + 5);
        assertThat(SharedPostgres.number("SELECT count(*) FROM inh_parent WHERE n <> 1")).isZero();
    }

    @Test
    void addColumnOnAPartitionIsRefusedBeforeRunning() throws Exception {
        partitioned("pt_addp");
        Node simulator = simulator();
        for (Node on : List.of(simulator, node)) {
            ObjectNode reply = on.send("""
                    {"type":"add_column","table":"pt_addp_eu","column":"flag","data_type":"boolean"}""");
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(22);
            assertThat(reply.get("text").asText()).contains("cannot add column to a partition").contains("pt_addp");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attname = 'flag'"
                + " AND attrelid = 'pt_addp_eu'::regclass")).isZero();
    }

    /** ALTER TABLE on the parent takes ACCESS EXCLUSIVE on every partition: a reader of one stops it. */
    @Test
    void aHolderOnOnePartitionStopsAnAddColumnOnTheParentAndIsNamed() throws Exception {
        partitioned("pt_hold");
        Node simulator = simulator();
        ObjectNode explained = simulator.send("""
                {"type":"add_column","table":"pt_hold","column":"flag","data_type":"boolean","plan":true,"explain":true}""");
        assertThat(explained.toString()).contains("also_locks").contains("pt_hold_other_low");
        for (Node on : List.of(node, simulator)) {
            on.send("""
                    {"type":"open_transaction","session":"part_reader","table":"pt_hold_us","mode":"ACCESS SHARE"}""");
            ObjectNode reply;
            try {
                reply = on.send("""
                        {"type":"add_column","table":"pt_hold","column":"flag","data_type":"boolean",
                         "max_lock_duration_ms":300}""");
            } finally {
                on.send("""
                        {"type":"close_transaction","session":"part_reader"}""");
            }
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("pt_hold_us");
            assertThat(reply.get("blocked_by").toString()).contains("part_reader");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attname = 'flag'"
                + " AND attrelid = 'pt_hold'::regclass")).isZero();
        // A safe add_column on the parent fills every partition's old rows.
        ObjectNode added = node.send("""
                {"type":"add_column","table":"pt_hold","column":"token","data_type":"float8","default_sql":"random()",
                 "nullable":false}""");
        assertThat(added.get("type").asText()).as(added.toString()).isEqualTo("column_added");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pt_hold WHERE token IS NULL")).isZero();
    }

    /** A recipe's ALTER of the parent recurses as add_column's does: a reader of one partition stops it. */
    @Test
    void aHolderOnOnePartitionStopsARecipeOnTheParent() throws Exception {
        partitioned("pt_rec");
        Node simulator = simulator();
        for (Node on : List.of(node, simulator)) {
            on.send("""
                    {"type":"open_transaction","session":"rec_reader","table":"pt_rec_other_low","mode":"ACCESS SHARE"}""");
            ObjectNode reply;
            try {
                reply = on.send("""
                        {"type":"set_default","table":"pt_rec","column":"n","default":"7","max_lock_duration_ms":300}""");
            } finally {
                on.send("""
                        {"type":"close_transaction","session":"rec_reader"}""");
            }
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("pt_rec_other_low");
        }
    }

    /** LOCK TABLE on the parent reaches its partitions: a job on one of them waits for it on both engines. */
    @Test
    void aHolderOnTheParentStopsAJobOnAPartition() throws Exception {
        partitioned("pt_top");
        Node simulator = simulator();
        for (Node on : List.of(node, simulator)) {
            on.send("""
                    {"type":"open_transaction","session":"top_holder","table":"pt_top","mode":"ACCESS EXCLUSIVE"}""");
            ObjectNode reply;
            try {
                reply = on.send("""
                        {"type":"migrate_data","table":"pt_top_eu","set":{"n":"n + 1"},"batch_size":100,"max_lock_duration_ms":300}""");
            } finally {
                on.send("""
                        {"type":"close_transaction","session":"top_holder"}""");
            }
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("pt_top_eu");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pt_top WHERE n <> 0")).isZero();
    }

    /**
     * A job killed in its second partition (pg_terminate_backend, as a crash would): the same request
     * again resumes each partition from its own checkpoint, and every row is updated exactly once.
     */
    @Test
    void aJobKilledBetweenPartitionsResumesEachExactlyOnce() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS pt_crash CASCADE",
                "CREATE TABLE pt_crash (id bigint NOT NULL, half int NOT NULL, n int NOT NULL DEFAULT 0,"
                        + " PRIMARY KEY (id, half)) PARTITION BY LIST (half)",
                "CREATE TABLE pt_crash_a PARTITION OF pt_crash FOR VALUES IN (0)",
                "CREATE TABLE pt_crash_b PARTITION OF pt_crash FOR VALUES IN (1)",
                "INSERT INTO pt_crash (id, half) SELECT g, g % 2 FROM generate_series(1, 12000) g");
        String request = """
                {"type":"migrate_data","table":"pt_crash","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":20,
                 "batch_time_ms":500}""";
        CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(request));
        String done = "SELECT coalesce(sum(rows_done), 0) FROM zdm.checkpoints JOIN zdm.operations o"
                + " ON o.id = operation_id WHERE o.table_name = 'pt_crash'";
        while (SharedPostgres.number(done) < 7_000) {
            Thread.sleep(5);
        }
        SharedPostgres.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                + " WHERE application_name = 'zdm-migration'");
        ObjectNode crashed = first.get();
        assertThat(crashed.get("code").asInt()).as(crashed.toString()).isEqualTo(13);
        // Each partition's checkpoint is its own: bound to the partition's OID.
        assertThat(SharedPostgres.number("SELECT count(DISTINCT k.table_oid) FROM zdm.checkpoints k JOIN zdm.operations o"
                + " ON o.id = k.operation_id WHERE o.table_name = 'pt_crash' AND k.table_oid IN"
                + " ('pt_crash_a'::regclass, 'pt_crash_b'::regclass)")).isEqualTo(2);

        ObjectNode resumed = node.send(request);
        assertThat(resumed.get("type").asText()).as(resumed.toString()).isEqualTo("data_migrated");
        assertThat(resumed.get("total_rows").asLong()).isEqualTo(12_000);
        assertThat(resumed.get("batches").asInt()).isEqualTo(24);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pt_crash WHERE n <> 1")).isZero();
    }

    /**
     * A set that assigns the partition key would move rows between partitions; zdm updates each
     * partition directly, where PostgreSQL refuses that (23514) after earlier batches committed. Both
     * engines refuse before any row, on the parent, on a sub-partitioned tree's inner key and on a partition.
     */
    @Test
    void migrateDataSettingAPartitionKeyIsRefusedBeforeAnyRow() throws Exception {
        partitioned("pt_move");
        Node simulator = simulator();
        List<String> requests = List.of("""
                {"type":"migrate_data","table":"pt_move","set":{"region":"'us'","n":"n + 1"},"where":"region = 'eu'","batch_size":10}""",
                """
                {"type":"migrate_data","table":"pt_move","set":{"id":"id + 1000000"},"batch_size":10}""",
                """
                {"type":"migrate_data","table":"pt_move_eu","set":{"region":"'us'"},"batch_size":10}""");
        for (String request : requests) {
            for (Node on : List.of(simulator, node)) {
                ObjectNode reply = on.send(request);
                assertThat(reply.path("code").asInt()).as(on == node ? "real " : "sim " + reply).isEqualTo(22);
                assertThat(reply.get("text").asText()).as(reply.toString()).contains("partition key")
                        .contains("rows would move between partitions");
            }
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pt_move WHERE n <> 0")).isZero();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pt_move_us")).isEqualTo(700);
    }

    /**
     * ANALYZE of a partitioned table (14+) gives the parent reltuples, the count of its partitions' rows;
     * the model took them for rows of its own that no backfill fills, and refused the NOT NULL the real
     * run sets. The key (id, p), the partition column second, as in the report.
     */
    @Test
    void aVolatileNotNullColumnOnAnAnalyzedPartitionedTableIsPredictedAsItRuns() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS pt_q1 CASCADE",
                "CREATE TABLE pt_q1 (id bigint NOT NULL, p int NOT NULL, v text, PRIMARY KEY (id, p)) PARTITION BY LIST (p)",
                "CREATE TABLE pt_q1_0 PARTITION OF pt_q1 FOR VALUES IN (0)",
                "CREATE TABLE pt_q1_1 PARTITION OF pt_q1 FOR VALUES IN (1)",
                "INSERT INTO pt_q1 SELECT g, g % 2, 'x' FROM generate_series(1, 1000) g",
                "ANALYZE pt_q1");
        Node simulator = simulator();
        String request = """
                {"type":"add_column","table":"pt_q1","column":"u3","data_type":"uuid","default_sql":"gen_random_uuid()","nullable":false}""";
        ObjectNode predicted = simulator.send(request);
        ObjectNode planned = node.send(request.replace("\"nullable\"", "\"plan\":true,\"nullable\""));
        ObjectNode real = node.send(request);
        assertThat(real.get("type").asText()).as(real.toString()).isEqualTo("column_added");
        assertThat(predicted.get("type").asText()).as(predicted.toString()).isEqualTo("column_added");
        assertThat(planned.path("code").isMissingNode()).as(planned.toString()).isTrue();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pt_q1 WHERE u3 IS NULL")).isZero();
    }

    /**
     * A foreign-table partition (postgres_fdw): its rows live on another server, so no concurrent build,
     * no batch walk there. The real engine said 20 "does not exist" (it read no foreign table), the
     * simulator ignored it; both now refuse before running, naming it. The foreign server is never
     * reached: the refusal comes first.
     */
    @Test
    void aForeignPartitionIsRefusedByNameBeforeRunning() throws Exception {
        SharedPostgres.exec("CREATE EXTENSION IF NOT EXISTS postgres_fdw",
                "DROP TABLE IF EXISTS pt_sales CASCADE",
                "DROP SERVER IF EXISTS pt_nowhere CASCADE",
                "CREATE SERVER pt_nowhere FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '/nonexistent', dbname 'x')",
                "CREATE TABLE pt_sales (id int NOT NULL, region text NOT NULL, v int) PARTITION BY LIST (region)",
                "CREATE TABLE pt_sales_local PARTITION OF pt_sales FOR VALUES IN ('local')",
                "CREATE FOREIGN TABLE pt_sales_remote PARTITION OF pt_sales FOR VALUES IN ('remote') SERVER pt_nowhere"
                        + " OPTIONS (table_name 'remote_store')",
                "ALTER TABLE pt_sales_local ADD PRIMARY KEY (id)",
                "INSERT INTO pt_sales_local SELECT g, 'local', 0 FROM generate_series(1, 50) g");
        Node simulator = simulator();
        List<String> requests = List.of("""
                {"type":"create_index","table":"pt_sales","column":"v"}""", """
                {"type":"migrate_data","table":"pt_sales","set":{"v":"v + 1"},"batch_size":10}""", """
                {"type":"add_column","table":"pt_sales","column":"u","data_type":"uuid","default_sql":"gen_random_uuid()"}""");
        for (String request : requests) {
            for (Node on : List.of(simulator, node)) {
                ObjectNode reply = on.send(request);
                assertThat(reply.path("code").asInt()).as((on == node ? "real " : "sim ") + reply).isEqualTo(22);
                assertThat(reply.get("text").asText()).as(reply.toString()).contains("pt_sales_remote")
                        .contains("foreign table");
            }
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pt_sales_local WHERE v <> 0")).isZero();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attname = 'u'"
                + " AND attrelid = 'pt_sales'::regclass")).isZero();
        // The shared database is read whole by other tests' catalog readers: no foreign table left behind.
        SharedPostgres.exec("DROP TABLE pt_sales CASCADE", "DROP SERVER pt_nowhere CASCADE");
    }
}
