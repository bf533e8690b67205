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
import org.junit.jupiter.api.Test;

/**
 * CREATE INDEX on an inheritance parent stays on the parent (DefineIndex recurses only into partitions):
 * a child held ACCESS EXCLUSIVE stops neither the concurrent nor the plain build, on either engine (the
 * fuzzer's inheritance shape found both engines waiting for the child). And a plain build on a
 * partitioned parent reads the partitions' rows under SHARE: the table was locked. Both engines, the
 * simulator on the schema --schema-from reads.
 */
class TreeFidelityTest extends OnEmbeddedPostgres {

    private static Node simulator() throws Exception {
        Schema schema;
        try (Connection c = SharedPostgres.connect()) {
            schema = CatalogReader.read(c, line -> { });
        }
        return new Node(new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()), CostModel.DEFAULT,
                RetryPolicy.of(3)), BUDGET);
    }

    private static void inheritance() {
        SharedPostgres.exec("DROP TABLE IF EXISTS inx_users CASCADE",
                "CREATE TABLE inx_users (id bigint PRIMARY KEY, email text, name text)",
                "CREATE TABLE inx_users_kid1 (PRIMARY KEY (id)) INHERITS (inx_users)",
                "CREATE TABLE inx_users_kid2 () INHERITS (inx_users)",
                "INSERT INTO inx_users SELECT g, 'u' || g, 'n' || g FROM generate_series(1, 50) g",
                "INSERT INTO inx_users_kid1 SELECT g, 'k' || g, 'k' || g FROM generate_series(100001, 100050) g",
                "ANALYZE inx_users", "ANALYZE inx_users_kid1", "ANALYZE inx_users_kid2");
    }

    @Test
    void aChildHeldAccessExclusiveStopsNoIndexBuildOnTheParent() throws Exception {
        for (boolean concurrently : List.of(true, false)) {
            inheritance();
            Node simulator = simulator();
            for (Node on : List.of(node, simulator)) {
                on.send("""
                        {"type":"open_transaction","session":"kid_holder","table":"inx_users_kid1","mode":"ACCESS EXCLUSIVE"}""");
                ObjectNode reply;
                try {
                    reply = on.send("""
                            {"type":"create_index","table":"inx_users","column":"name","index":"inx_name_%s",
                             "concurrently":%s,"max_lock_duration_ms":300}""".formatted(concurrently, concurrently));
                } finally {
                    on.send("""
                            {"type":"close_transaction","session":"kid_holder"}""");
                }
                assertThat(reply.get("type").asText()).as((on == node ? "PostgreSQL " : "simulator ") + reply).isEqualTo("index_created");
            }
            assertThat(SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indisvalid"
                    + " AND indexrelid = 'inx_name_" + concurrently + "'::regclass")).isEqualTo(1);
            // Only the parent gets it: a plain build does not recurse into inheritance children.
            assertThat(SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indrelid = 'inx_users_kid2'::regclass"))
                    .isZero();
            ObjectNode explained = simulator.send("""
                    {"type":"create_index","table":"inx_users","column":"email","concurrently":false,"plan":true,
                     "explain":true}""");
            assertThat(explained.toString()).as(explained.toString()).doesNotContain("also_locks");
        }
    }

    @Test
    void aPlainBuildOnAPartitionedParentLocksTheTableWhileItReadsThePartitionsRows() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS inx_parted CASCADE",
                "CREATE TABLE inx_parted (id bigint NOT NULL, region text NOT NULL, name text) PARTITION BY LIST (region)",
                "CREATE TABLE inx_parted_eu PARTITION OF inx_parted FOR VALUES IN ('eu')",
                "CREATE TABLE inx_parted_us PARTITION OF inx_parted FOR VALUES IN ('us')",
                "INSERT INTO inx_parted SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'n' || g"
                        + " FROM generate_series(1, 500) g",
                "ANALYZE inx_parted_eu", "ANALYZE inx_parted_us");
        Node simulator = simulator();
        for (Node on : List.of(node, simulator)) {
            SharedPostgres.exec("DROP INDEX IF EXISTS inx_parted_name");
            ObjectNode reply = on.send("""
                    {"type":"create_index","table":"inx_parted","column":"name","index":"inx_parted_name","concurrently":false}""");
            assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_created");
            assertThat(reply.get("table_locked").asBoolean()).as((on == node ? "PostgreSQL " : "simulator ") + reply).isTrue();
        }
    }

    /** Hostile finding 4: a list-partitioned table keyed (id, p), the partition column second. */
    @Test
    void aVolatileNotNullColumnFillsEveryPartitionKeyedWithThePartitionColumnSecond() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS inx_q1 CASCADE",
                "CREATE TABLE inx_q1 (id bigint NOT NULL, p int NOT NULL, v text, PRIMARY KEY (id, p)) PARTITION BY LIST (p)",
                "CREATE TABLE inx_q1_0 PARTITION OF inx_q1 FOR VALUES IN (0)",
                "CREATE TABLE inx_q1_1 PARTITION OF inx_q1 FOR VALUES IN (1)",
                "INSERT INTO inx_q1 SELECT g, g % 2, 'x' FROM generate_series(1, 1000) g",
                "ANALYZE inx_q1");
        Node simulator = simulator();
        String request = """
                {"type":"add_column","table":"inx_q1","column":"u3","data_type":"uuid",
                 "default_sql":"md5(random()::text || clock_timestamp()::text)::uuid","nullable":false}""";
        ObjectNode predicted = simulator.send(request);
        ObjectNode real = node.send(request);
        assertThat(real.get("type").asText()).as(real.toString()).isEqualTo("column_added");
        assertThat(predicted.get("type").asText()).as(predicted.toString()).isEqualTo("column_added");
        assertThat(SharedPostgres.number("SELECT count(*) FROM inx_q1 WHERE u3 IS NULL")).isZero();
    }

    /**
     * ADD COLUMN looks its type up on the parent before it locks a child: an unknown type is 20 while a
     * child or a partition is held, on both engines (found by the fuzzer on 10, 11, 15, 18).
     */
    @Test
    void anUnknownTypeIsNotFoundBeforeAHeldChildIsWaitedFor() throws Exception {
        inheritance();
        SharedPostgres.exec("DROP TABLE IF EXISTS inx_parted CASCADE",
                "CREATE TABLE inx_parted (id bigint NOT NULL, region text NOT NULL) PARTITION BY LIST (region)",
                "CREATE TABLE inx_parted_eu PARTITION OF inx_parted FOR VALUES IN ('eu')");
        Node simulator = simulator();
        for (String[] tree : new String[][] {{"inx_users", "inx_users_kid1"}, {"inx_parted", "inx_parted_eu"}}) {
            for (Node on : List.of(node, simulator)) {
                on.send("""
                        {"type":"open_transaction","session":"kid_reader","table":"%s","mode":"SHARE"}""".formatted(tree[1]));
                ObjectNode reply;
                try {
                    reply = on.send("""
                            {"type":"add_column","table":"%s","column":"User","data_type":"no_such_type","safe":false,
                             "max_lock_duration_ms":300}""".formatted(tree[0]));
                } finally {
                    on.send("""
                            {"type":"close_transaction","session":"kid_reader"}""");
                }
                assertThat(reply.path("code").asInt()).as((on == node ? "PostgreSQL " : "simulator ") + reply).isEqualTo(20);
            }
        }
    }

    /**
     * An inheritance parent's keys and foreign keys are not inherited: dropping or validating one takes no
     * lock on a child (10-18), adding one does from 18 on; a CHECK and a default reach every child.
     */
    @Test
    void keysOfAnInheritanceParentStayOnTheParentWhileItsChecksReachTheChildren() throws Exception {
        boolean addReaches = engine.version().major() >= 18;
        List<String[]> cases = List.of(
                new String[] {"""
                        {"type":"drop_constraint","table":"inx_fk_users","constraint":"inx_fk_users_pkey"}""", "constraint_dropped"},
                new String[] {"""
                        {"type":"drop_constraint","table":"inx_fk_users","constraint":"inx_fk0"}""", "constraint_dropped"},
                new String[] {"""
                        {"type":"validate_constraint","table":"inx_fk_users","constraint":"inx_fk0"}""", "constraint_validated"},
                new String[] {"""
                        {"type":"add_constraint","table":"inx_fk_users","constraint":"inx_fk1","constraint_type":"foreign_key",
                         "columns":["cid"],"references":{"table":"inx_fk_cust","columns":["id"]}}""",
                        addReaches ? "14" : "constraint_added"},
                new String[] {"""
                        {"type":"add_constraint","table":"inx_fk_users","constraint":"inx_ck1","constraint_type":"check",
                         "check":"cid > 0"}""", "14"},
                new String[] {"""
                        {"type":"drop_constraint","table":"inx_fk_users","constraint":"inx_ck0"}""", "14"});
        for (String[] c : cases) {
            for (boolean real : List.of(true, false)) {
                SharedPostgres.exec("DROP TABLE IF EXISTS inx_fk_users, inx_fk_cust CASCADE",
                        "CREATE TABLE inx_fk_cust (id int PRIMARY KEY)", "INSERT INTO inx_fk_cust VALUES (1)",
                        "CREATE TABLE inx_fk_users (id bigint PRIMARY KEY, email text, cid int)",
                        "ALTER TABLE inx_fk_users ADD CONSTRAINT inx_fk0 FOREIGN KEY (cid) REFERENCES inx_fk_cust (id) NOT VALID",
                        "ALTER TABLE inx_fk_users ADD CONSTRAINT inx_ck0 CHECK (cid > -1)",
                        "CREATE TABLE inx_fk_users_kid () INHERITS (inx_fk_users)",
                        "INSERT INTO inx_fk_users VALUES (1, 'a', 1)", "INSERT INTO inx_fk_users_kid VALUES (2, 'b', 1)",
                        "ANALYZE inx_fk_users", "ANALYZE inx_fk_users_kid", "ANALYZE inx_fk_cust");
                Node on = real ? node : simulator();
                on.send("""
                        {"type":"open_transaction","session":"kid_excl","table":"inx_fk_users_kid","mode":"ACCESS EXCLUSIVE"}""");
                ObjectNode reply;
                try {
                    reply = on.send(c[0].replace("{\"type\"", "{\"max_lock_duration_ms\":300,\"type\""));
                } finally {
                    on.send("""
                            {"type":"close_transaction","session":"kid_excl"}""");
                }
                String got = reply.has("code") ? reply.get("code").asText() : reply.get("type").asText();
                assertThat(got).as((real ? "PostgreSQL " : "simulator ") + c[0] + " " + reply).isEqualTo(c[1]);
            }
        }
    }
}
