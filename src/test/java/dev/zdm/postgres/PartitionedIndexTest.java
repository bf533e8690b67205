package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static dev.zdm.postgres.SharedPostgres.number;
import static dev.zdm.postgres.SharedPostgres.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * create_index on a partitioned table (issue 13): CREATE INDEX CONCURRENTLY is refused there, so zdm
 * builds the parent's index ON ONLY, each partition's concurrently, and attaches them; the parent's
 * index is valid at the end, the partitions' named as PostgreSQL names them, and the simulator given
 * the same schema plans the same statements.
 */
class PartitionedIndexTest extends OnEmbeddedPostgres {

    /** A list-partitioned table with a plain partition and a range-partitioned one, in schema {@code schema}. */
    private static void tree(String schema) {
        exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE", "CREATE SCHEMA " + schema,
                "CREATE TABLE " + schema + ".sales (id bigint NOT NULL, region text NOT NULL, sold date NOT NULL,"
                        + " email text) PARTITION BY LIST (region)",
                "CREATE TABLE " + schema + ".sales_eu PARTITION OF " + schema + ".sales FOR VALUES IN ('eu')",
                "CREATE TABLE " + schema + ".sales_us PARTITION OF " + schema + ".sales FOR VALUES IN ('us')"
                        + " PARTITION BY RANGE (sold)",
                "CREATE TABLE " + schema + ".sales_us_2024 PARTITION OF " + schema + ".sales_us"
                        + " FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
                "CREATE TABLE " + schema + ".sales_us_2025 PARTITION OF " + schema + ".sales_us"
                        + " FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
                "INSERT INTO " + schema + ".sales SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END,"
                        + " date '2024-06-01' + (g % 400), 'u' || g FROM generate_series(1, 3000) g");
    }

    /** The partitions' indexes, each as "table: index valid attached-to". */
    private static String indexes(String schema) {
        return text("SELECT string_agg(t.relname || ': ' || x.relname || ' ' || i.indisvalid || ' '"
                + " || coalesce(p.relname, '-'), ', '"
                + " ORDER BY t.relname) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid"
                + " JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
                + " LEFT JOIN pg_inherits h ON h.inhrelid = i.indexrelid LEFT JOIN pg_class p ON p.oid = h.inhparent"
                + " WHERE n.nspname = '" + schema + "'");
    }

    private static List<String> sql(JsonNode reply) {
        List<String> sql = new ArrayList<>();
        reply.path("steps").forEach(s -> sql.add(s.get("sql").asText()));
        return sql;
    }

    @Test
    void theParentsIndexIsBuiltPartitionByPartitionAndIsValidAsPostgresWouldHaveIt() throws Exception {
        tree("pidx");
        tree("pidx_twin");
        String request = """
                {"type":"create_index","schema":"pidx","table":"sales","column":"email","index":"sales_email",
                 "explain":true}""";
        Schema schema;
        try (Connection c = SharedPostgres.connect()) {
            schema = CatalogReader.read(c, line -> { });
        }
        SimulatorEngine simulator = new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()),
                CostModel.DEFAULT, RetryPolicy.of(3));
        ObjectNode predicted = new Node(simulator, BUDGET).send(request);

        ObjectNode reply = node.send(request);

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_created");
        assertThat(reply.get("table_locked").asBoolean()).as("no partition locked for a build").isFalse();
        assertThat(sql(reply)).hasSize(9);
        assertThat(sql(reply).get(0)).isEqualTo("CREATE INDEX \"sales_email\" ON ONLY \"pidx\".\"sales\" (\"email\")");
        assertThat(sql(reply)).filteredOn(s -> s.startsWith("CREATE INDEX CONCURRENTLY")).hasSize(3);
        assertThat(sql(reply)).filteredOn(s -> s.startsWith("ALTER INDEX")).hasSize(4);
        assertThat(text("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'pidx.sales_email'::regclass"))
                .isEqualTo("true");
        // PostgreSQL's own build on the twin tree: the same names, valid, attached the same way.
        exec("CREATE INDEX sales_email ON pidx_twin.sales (email)");
        assertThat(indexes("pidx")).isEqualTo(indexes("pidx_twin")).contains("sales_eu: sales_eu_email_idx true sales_email");
        assertThat(number("SELECT count(*) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid"
                + " WHERE x.relnamespace = 'pidx'::regnamespace AND NOT i.indisvalid")).isZero();

        assertThat(predicted.get("type").asText()).as(predicted.toString()).isEqualTo("index_created");
        assertThat(sql(predicted)).isEqualTo(sql(reply));
        assertThat(predicted.get("table_locked")).isEqualTo(reply.get("table_locked"));
    }

    /** PostgreSQL's rule, on both engines before anything runs: a unique index holds every partition key column. */
    @Test
    void aUniqueIndexWithoutThePartitionKeyIsRefusedByBothEngines() throws Exception {
        tree("pidx_unique");
        Schema schema;
        try (Connection c = SharedPostgres.connect()) {
            schema = CatalogReader.read(c, line -> { });
        }
        SimulatorEngine simulator = new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()),
                CostModel.DEFAULT, RetryPolicy.of(3));
        Node predicted = new Node(simulator, BUDGET);
        // region is the key of sales, sold of its partition sales_us: id alone lacks the first, (id, region) the second.
        for (String columns : List.of("[\"id\"]", "[\"id\", \"region\"]")) {
            String request = """
                    {"type":"create_index","schema":"pidx_unique","table":"sales","columns":%s,"unique":true}"""
                    .formatted(columns);
            ObjectNode real = node.send(request);
            assertThat(real.get("code").asInt()).as(real.toString()).isEqualTo(22);
            assertThat(real.get("text").asText()).contains("partition key");
            assertThat(predicted.send(request)).as(columns).isEqualTo(real);
        }
        assertThat(number("SELECT count(*) FROM pg_class WHERE relnamespace = 'pidx_unique'::regnamespace"
                + " AND relkind IN ('i', 'I')")).as("nothing built").isZero();
        ObjectNode withKey = node.send("""
                {"type":"create_index","schema":"pidx_unique","table":"sales","columns":["id","region","sold"],
                 "unique":true}""");
        assertThat(withKey.get("type").asText()).as(withKey.toString()).isEqualTo("index_created");
    }

    /**
     * A partition held ACCESS EXCLUSIVE past the budget: 14, and what the build made is undone newest
     * first (the parent's index, which a plain DROP takes away with the partitions' indexes attached to
     * it, since a partitioned index cannot be dropped concurrently): no index is left in the tree.
     */
    @Test
    void aPartitionHeldPastTheBudgetAbortsAndTheBuildIsUndone() throws Exception {
        tree("pidx_undo");
        try (Connection holder = SharedPostgres.connect()) {
            holder.setAutoCommit(false);
            try (var s = holder.createStatement()) {
                s.execute("LOCK TABLE pidx_undo.sales_us_2025 IN ACCESS EXCLUSIVE MODE");
            }
            ObjectNode reply = node.send("""
                    {"type":"create_index","schema":"pidx_undo","table":"sales","column":"email"}""");
            assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
            // The parent's index goes with a plain DROP, which locks every partition: it waits for the holder.
            holder.rollback();
        }
        long deadline = System.currentTimeMillis() + 30_000;
        while (indexCount("pidx_undo") > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(indexCount("pidx_undo")).as(indexes("pidx_undo")).isZero();
    }

    /**
     * Where a holder stops a partitioned build, both engines name the same table: a writer on a partition
     * stops that partition's CIC (a wait for its virtual transaction, no relation: the partition is named),
     * and any lock on the parent stops the ATTACH that makes a sub-partitioned partition's index valid
     * (validatePartitionedIndex takes ACCESS EXCLUSIVE on the parent): the parent is named.
     */
    @Test
    void theTableAHolderStopsAPartitionedBuildOnIsNamedAlikeByBothEngines() throws Exception {
        for (String[] holder : List.of(new String[] {"sales_eu", "ROW EXCLUSIVE"}, new String[] {"sales", "ACCESS SHARE"})) {
            String schemaName = "pidx_held_" + holder[0];
            tree(schemaName);
            Schema schema;
            try (Connection c = SharedPostgres.connect()) {
                schema = CatalogReader.read(c, line -> { });
            }
            SimulatorEngine simulator = new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()),
                    CostModel.DEFAULT, RetryPolicy.of(3));
            Node predicting = new Node(simulator, BUDGET);
            String open = """
                    {"type":"open_transaction","session":"app","schema":"%s","table":"%s","mode":"%s"}"""
                    .formatted(schemaName, holder[0], holder[1]);
            String build = """
                    {"type":"create_index","schema":"%s","table":"sales","column":"email"}""".formatted(schemaName);
            predicting.send(open);
            ObjectNode predicted = predicting.send(build);
            assertThat(node.send(open).get("type").asText()).isNotEqualTo("error");
            ObjectNode reply = node.send(build);
            node.send("""
                    {"type":"close_transaction","session":"app"}""");
            assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo(holder[0]);
            assertThat(predicted.get("code").asInt()).as(predicted.toString()).isEqualTo(14);
            assertThat(predicted.get("table").asText()).as(predicted.toString()).isEqualTo(holder[0]);
            assertThat(predicted.get("attempts")).as(predicted.toString()).isEqualTo(reply.get("attempts"));
        }
    }

    /**
     * The janitor's drop of a partitioned index left behind by a 14 must never hold the parent while it
     * waits for a held partition: reads of the other partitions through the parent keep going (each
     * waits less than a second here, where a drop holding the parent made them wait its whole budget),
     * and the drop gets through once the holder ends.
     */
    @Test
    void theJanitorsDropNeverHoldsTheParentWhileAPartitionIsHeld() throws Exception {
        tree("pidx_jan");
        try (Connection holder = SharedPostgres.connect(); Connection reader = SharedPostgres.connect()) {
            holder.setAutoCommit(false);
            try (var s = holder.createStatement()) {
                s.execute("LOCK TABLE pidx_jan.sales_us_2025 IN SHARE MODE");
            }
            ObjectNode reply = node.send("""
                    {"type":"create_index","schema":"pidx_jan","table":"sales","column":"email",
                     "max_lock_duration_ms":300}""");
            assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
            try (var s = reader.createStatement()) {
                s.execute("SET lock_timeout = '900ms'");
                long until = System.currentTimeMillis() + 5_000;
                while (System.currentTimeMillis() < until) {
                    // Throws 55P03 if the parent is held by a drop waiting for the holder.
                    s.execute("SELECT count(*) FROM pidx_jan.sales WHERE region = 'eu'");
                    Thread.sleep(50);
                }
            }
            holder.rollback();
        }
        long deadline = System.currentTimeMillis() + 30_000;
        while (indexCount("pidx_jan") > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(indexCount("pidx_jan")).as(indexes("pidx_jan")).isZero();
    }

    /**
     * A build a killed run began (the parent's index INVALID ON ONLY, one partition's attached) is
     * continued only by the same request: another column order, or unique, under the same name is 21
     * before anything is built, on both engines; the original request finishes it.
     */
    @Test
    void anInvalidParentIndexOfAnotherDefinitionIsNotContinued() throws Exception {
        tree("pidx_other");
        exec("CREATE INDEX bx ON ONLY pidx_other.sales (region, sold)",
                "CREATE INDEX sales_eu_region_sold_idx ON pidx_other.sales_eu (region, sold)",
                "ALTER INDEX pidx_other.bx ATTACH PARTITION pidx_other.sales_eu_region_sold_idx");
        Schema schema;
        try (Connection c = SharedPostgres.connect()) {
            schema = CatalogReader.read(c, line -> { });
        }
        SimulatorEngine simulator = new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()),
                CostModel.DEFAULT, RetryPolicy.of(3));
        long before = indexCount("pidx_other");
        for (String other : List.of("""
                {"type":"create_index","schema":"pidx_other","table":"sales","columns":["sold","region"],"index":"bx"}""",
                """
                {"type":"create_index","schema":"pidx_other","table":"sales","columns":["region","sold"],"index":"bx",
                 "unique":true}""")) {
            ObjectNode predicted = new Node(simulator, BUDGET).send(other);
            assertThat(predicted.path("code").asInt()).as(predicted.toString()).isEqualTo(21);
            ObjectNode reply = node.send(other);
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(21);
            assertThat(reply.get("text").asText()).contains("INVALID");
            assertThat(indexCount("pidx_other")).as("nothing built").isEqualTo(before);
        }
        ObjectNode same = node.send("""
                {"type":"create_index","schema":"pidx_other","table":"sales","columns":["region","sold"],"index":"bx"}""");
        assertThat(same.get("type").asText()).as(same.toString()).isEqualTo("index_created");
        assertThat(text("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'pidx_other.bx'::regclass")).isEqualTo("true");
    }

    private static long indexCount(String schema) {
        return number("SELECT count(*) FROM pg_class WHERE relnamespace = '" + schema + "'::regnamespace"
                + " AND relkind IN ('i', 'I')");
    }
}
