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
 * Issue 13: an UPDATE that changes a foreign-key column locks the referenced table (ROW SHARE, the RI
 * trigger's SELECT ... FOR KEY SHARE), and one that changes a referenced key locks the referencing table
 * (ROW SHARE for NO ACTION, ROW EXCLUSIVE for CASCADE). Both engines wait for those locks, and a lost
 * wait names the table it was for. The simulator is given the schema --schema-from reads of this database.
 */
class ForeignKeyLocksTest extends OnEmbeddedPostgres {

    private static void schema() {
        SharedPostgres.exec("DROP TABLE IF EXISTS fkl_orders, fkl_notes, fkl_customers",
                "CREATE TABLE fkl_customers (id int PRIMARY KEY, code text NOT NULL UNIQUE)",
                "CREATE TABLE fkl_orders (id int PRIMARY KEY, customer_id int REFERENCES fkl_customers,"
                        + " ccode text REFERENCES fkl_customers (code) ON UPDATE CASCADE, n int NOT NULL DEFAULT 0)",
                "CREATE TABLE fkl_notes (id int PRIMARY KEY, customer_id int REFERENCES fkl_customers)",
                "INSERT INTO fkl_customers SELECT g, 'c' || g FROM generate_series(1, 20) g",
                "INSERT INTO fkl_orders SELECT g, 1 + g % 10, 'c' || (1 + g % 10) FROM generate_series(1, 500) g",
                "INSERT INTO fkl_notes SELECT g, g FROM generate_series(1, 10) g",
                "ANALYZE fkl_customers", "ANALYZE fkl_orders", "ANALYZE fkl_notes");
    }

    /** The simulator as --schema-from makes it, on this database's schema as it is now. */
    private static Node simulator() throws Exception {
        Schema schema;
        try (Connection c = SharedPostgres.connect()) {
            schema = CatalogReader.read(c, line -> { });
        }
        return new Node(new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()), CostModel.DEFAULT,
                RetryPolicy.of(3)), BUDGET);
    }

    private static ObjectNode behindHolder(Node on, String heldTable, String mode, String request) {
        assertThat(on.send("""
                {"type":"open_transaction","session":"fk_holder","table":"%s","mode":"%s"}""".formatted(heldTable, mode))
                .get("type").asText()).isEqualTo("transaction_opened");
        try {
            return on.send(request);
        } finally {
            on.send("""
                    {"type":"close_transaction","session":"fk_holder"}""");
        }
    }

    @Test
    void aHolderOnTheReferencedTableStopsAnUpdateOfTheForeignKeyAndIsNamed() throws Exception {
        schema();
        Node simulator = simulator();
        String request = """
                {"type":"migrate_data","table":"fkl_orders","set":{"customer_id":"1 + customer_id %% 9"},
                 "batch_size":100,"max_lock_duration_ms":300%s}""";
        ObjectNode explained = simulator.send(request.formatted(",\"plan\":true,\"explain\":true"));
        assertThat(explained.toString()).as(explained.toString()).contains("also_locks").contains("fkl_customers")
                .contains("ROW SHARE");
        for (Node on : List.of(node, simulator)) {
            ObjectNode reply = behindHolder(on, "fkl_customers", "ACCESS EXCLUSIVE", request.formatted(""));
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("fkl_customers");
            assertThat(reply.get("text").asText()).contains("fkl_customers");
            assertThat(reply.get("blocked_by").toString()).contains("fk_holder");
        }
        // EXCLUSIVE lets a reader in, not FOR KEY SHARE: the same 14.
        for (Node on : List.of(node, simulator)) {
            ObjectNode reply = behindHolder(on, "fkl_customers", "EXCLUSIVE", request.formatted(""));
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("fkl_customers");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_locks WHERE relation = 'fkl_customers'::regclass"))
                .isZero();
    }

    @Test
    void anUpdateOfAnotherColumnDoesNotWaitForTheReferencedTable() throws Exception {
        schema();
        Node simulator = simulator();
        for (Node on : List.of(node, simulator)) {
            ObjectNode reply = behindHolder(on, "fkl_customers", "ACCESS EXCLUSIVE", """
                    {"type":"migrate_data","table":"fkl_orders","set":{"n":"n + 1"},"batch_size":100,
                     "max_lock_duration_ms":300}""");
            assertThat(reply.path("type").asText()).as(reply.toString()).isEqualTo("data_migrated");
            assertThat(reply.get("total_rows").asLong()).isEqualTo(500);
        }
    }

    /**
     * Changing a referenced key: the CASCADE foreign key updates fkl_orders (ROW EXCLUSIVE, which a SHARE
     * holder stops), the NO ACTION one only looks into fkl_notes (ROW SHARE, which SHARE lets through).
     */
    @Test
    void anUpdateOfAReferencedKeyLocksTheReferencingTablesByTheirAction() throws Exception {
        schema();
        Node simulator = simulator();
        String request = """
                {"type":"migrate_data","table":"fkl_customers","set":{"code":"code || 'x'"},"batch_size":5,
                 "max_lock_duration_ms":300}""";
        for (Node on : List.of(node, simulator)) {
            ObjectNode reply = behindHolder(on, "fkl_orders", "SHARE", request);
            assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo("fkl_orders");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM fkl_customers WHERE code LIKE '%x'")).isZero();
        String notes = """
                {"type":"migrate_data","table":"fkl_customers","set":{"code":"code || 'y'"},"batch_size":5,
                 "max_lock_duration_ms":300}""";
        for (Node on : List.of(node, simulator)) {
            ObjectNode reply = behindHolder(on, "fkl_notes", "SHARE", notes);
            assertThat(reply.path("type").asText()).as(reply.toString()).isEqualTo("data_migrated");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM fkl_orders WHERE ccode NOT LIKE '%y'")).isZero();
    }
}
