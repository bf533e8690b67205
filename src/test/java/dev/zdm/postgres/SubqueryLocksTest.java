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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 (hostile finding 19): a subquery in migrate_data's set or where reads another table, and
 * every batch's UPDATE holds ACCESS SHARE on it (on each partition of a partitioned one) to its commit.
 * An ACCESS EXCLUSIVE holder there stops the batch: both engines wait under the budget and name the
 * table waited on; a name that resolves to nothing is 20 before running. As a role without superuser,
 * in a schema other than public; the simulator is the one --schema-from makes of the same database.
 */
class SubqueryLocksTest {

    private static final Duration BUDGET = Duration.ofMillis(400);
    private static final String SCHEMA = "Bil ling";
    private static Database tenant;

    @BeforeAll
    static void schema() throws Exception {
        exec("DROP DATABASE IF EXISTS sq_db WITH (FORCE)", "DROP ROLE IF EXISTS sq_tenant",
                "CREATE ROLE sq_tenant LOGIN PASSWORD 'sq_tenant' NOSUPERUSER NOCREATEDB NOCREATEROLE",
                "CREATE DATABASE sq_db OWNER sq_tenant");
        tenant = ScratchDatabase.withPassword("sq_db", "sq_tenant");
        try (Connection c = tenant.connect("zdm-test"); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA \"" + SCHEMA + "\"");
            s.execute("SET search_path = \"" + SCHEMA + "\"");
            s.execute("CREATE TABLE plans (id int PRIMARY KEY, t text NOT NULL)");
            s.execute("CREATE TABLE regions (id int NOT NULL, k int NOT NULL) PARTITION BY LIST (k)");
            s.execute("CREATE TABLE regions_1 PARTITION OF regions FOR VALUES IN (1)");
            s.execute("CREATE TABLE regions_2 PARTITION OF regions FOR VALUES IN (2)");
            s.execute("CREATE TABLE users (id int PRIMARY KEY, plan_id int NOT NULL, region int NOT NULL, tier text)");
            s.execute("INSERT INTO plans SELECT g, 'tier' || g FROM generate_series(1, 5) g");
            s.execute("INSERT INTO regions SELECT g, 1 + g % 2 FROM generate_series(1, 10) g");
            s.execute("INSERT INTO users SELECT g, 1 + g % 5, 1 + g % 10, NULL FROM generate_series(1, 200) g");
            s.execute("CREATE FUNCTION tier_of(p int) RETURNS text LANGUAGE sql STABLE AS 'SELECT t FROM plans WHERE id = p'");
            s.execute("ANALYZE");
        }
    }

    private static Node real(PostgresEngine engine) {
        return new Node(engine, BUDGET);
    }

    private static Node simulator(PostgresEngine engine) throws Exception {
        Schema schema;
        try (Connection c = tenant.connect("zdm-test")) {
            schema = CatalogReader.read(c, line -> { });
        }
        return new Node(new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()), CostModel.DEFAULT,
                RetryPolicy.of(3)), BUDGET);
    }

    private static ObjectNode behindHolder(Node on, String heldTable, String mode, String request) {
        ObjectNode opened = on.send("""
                {"type":"open_transaction","session":"sq_holder","schema":"%s","table":"%s","mode":"%s"}"""
                .formatted(SCHEMA, heldTable, mode));
        assertThat(opened.get("type").asText()).as(opened.toString()).isEqualTo("transaction_opened");
        try {
            return on.send(request);
        } finally {
            on.send("""
                    {"type":"close_transaction","session":"sq_holder"}""");
        }
    }

    private static final String TIER = """
            {"type":"migrate_data","schema":"Bil ling","table":"users",
             "set":{"tier":"(SELECT p.t FROM \\"Bil ling\\".plans p WHERE p.id = users.plan_id)"},"batch_size":50%s}""";

    @Test
    void aHolderOnTheTableASetSubqueryReadsStopsEveryBatchAndIsNamed() throws Exception {
        try (PostgresEngine engine = PostgresEngine.connect(tenant, 3)) {
            Node simulator = simulator(engine);
            ObjectNode explained = simulator.send(TIER.formatted(",\"plan\":true,\"explain\":true"));
            assertThat(explained.toString()).as(explained.toString()).contains("also_locks").contains("plans")
                    .contains("ACCESS SHARE");
            // A function's body is not read: what it locks is said to be unpredicted.
            ObjectNode viaFunction = simulator.send("""
                    {"type":"migrate_data","schema":"Bil ling","table":"users","set":{"tier":"\\"Bil ling\\".tier_of(plan_id)"},"batch_size":50,
                     "plan":true}""");
            assertThat(viaFunction.path("assumptions").toString()).as(viaFunction.toString()).contains("tier_of")
                    .contains("not predicted");
            for (Node on : List.of(real(engine), simulator)) {
                ObjectNode reply = behindHolder(on, "plans", "ACCESS EXCLUSIVE", TIER.formatted(""));
                assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
                assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("plans");
                assertThat(reply.get("blocked_by").toString()).contains("sq_holder");
            }
            assertThat(count("SELECT count(*) FROM \"Bil ling\".users WHERE tier IS NOT NULL")).isZero();
            // EXCLUSIVE lets readers in: the batches run.
            for (Node on : List.of(real(engine), simulator)) {
                ObjectNode reply = behindHolder(on, "plans", "EXCLUSIVE", TIER.formatted(""));
                assertThat(reply.path("type").asText()).as(reply.toString()).isEqualTo("data_migrated");
                assertThat(reply.get("total_rows").asLong()).isEqualTo(200);
            }
            assertThat(count("SELECT count(*) FROM \"Bil ling\".users WHERE tier IS NULL")).isZero();
        }
    }

    @Test
    void aWhereSubqueryOverAPartitionedTableLocksEachPartition() throws Exception {
        String request = """
                {"type":"migrate_data","schema":"Bil ling","table":"users","set":{"tier":"'r'"},"batch_size":50,
                 "where":"region IN (SELECT r.id FROM \\"Bil ling\\".regions r JOIN \\"Bil ling\\".plans q ON q.id = r.k)"}""";
        try (PostgresEngine engine = PostgresEngine.connect(tenant, 3)) {
            Node simulator = simulator(engine);
            for (Node on : List.of(real(engine), simulator)) {
                ObjectNode reply = behindHolder(on, "regions_2", "ACCESS EXCLUSIVE", request);
                assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
                assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("regions_2");
            }
            assertThat(count("SELECT count(*) FROM \"Bil ling\".users WHERE tier = 'r'")).isZero();
        }
    }

    @Test
    void aRelationNoSchemaHasIsNotFoundBeforeAnyBatch() throws Exception {
        String request = """
                {"type":"migrate_data","schema":"Bil ling","table":"users","batch_size":50,
                 "set":{"tier":"(SELECT max(t) FROM plans_gone WHERE extract(year FROM now()) > 2000)"}}""";
        try (PostgresEngine engine = PostgresEngine.connect(tenant, 3)) {
            for (Node on : List.of(real(engine), simulator(engine))) {
                ObjectNode reply = on.send(request);
                assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(20);
                assertThat(reply.get("text").asText()).as(reply.toString()).contains("plans_gone").contains("42P01");
            }
        }
    }

    private static long count(String sql) throws Exception {
        try (Connection c = tenant.connect("zdm-test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
