package dev.zdm.schema;

import static dev.zdm.schema.CatalogReaderTest.code;
import static dev.zdm.schema.CatalogReaderTest.send;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.config.Config;
import dev.zdm.handlers.Handlers;
import dev.zdm.postgres.Database;
import dev.zdm.postgres.SharedPostgres;
import dev.zdm.protocol.Json;
import dev.zdm.simulator.SimulatorEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulator takes a {@code schema} too and treats {@code s.t} as another table than {@code t}: in
 * the open world, from a {@code --schema} file that names schemas, and read by {@code --schema-from}
 * from every schema on the connection's search_path, an unqualified name found as the server finds it.
 */
class SimulatedSchemasTest {

    private static Handlers handlers(String... flags) throws Exception {
        SimulatorEngine engine = SimulatorEngine.open(Config.parse(flags));
        return Handlers.forEngine(engine, Config.DEFAULT_LOCK_BUDGET);
    }

    private static String index(String schema, String table, String column, String name) {
        return "{\"type\":\"create_index\",\"msg_id\":1," + (schema == null ? "" : "\"schema\":" + json(schema) + ",")
                + "\"table\":" + json(table) + ",\"column\":" + json(column) + ",\"index\":" + json(name) + ",\"explain\":true}";
    }

    private static String json(String text) {
        return Json.MAPPER.valueToTree(text).toString();
    }

    @Test
    void inTheOpenWorldEachSchemasTableIsItsOwn() throws Exception {
        Handlers node = handlers();
        ObjectNode a = send(node, index("tenant_a", "accounts", "n", "accounts_n"));
        assertThat(a.get("type").asText()).isEqualTo("index_created");
        assertThat(a.get("steps").toString()).contains("ON \\\"tenant_a\\\".\\\"accounts\\\"");
        assertThat(send(node, index("tenant_b", "accounts", "n", "accounts_n")).get("type").asText())
                .as("tenant_b's index of that name is another").isEqualTo("index_created");
        assertThat(send(node, index(null, "accounts", "n", "accounts_n")).get("type").asText()).isEqualTo("index_created");
        assertThat(code(node, index("tenant_a", "accounts", "n", "accounts_n"))).isEqualTo(21);
    }

    @Test
    void oddNamesAreExactInTheSimulatorToo() throws Exception {
        Handlers node = handlers();
        ObjectNode made = send(node, index(null, "Mixed Case\"quote", "Odd \"col'; --", "Idx \"Odd\" é"));
        assertThat(made.get("type").asText()).isEqualTo("index_created");
        assertThat(made.get("steps").get(0).get("sql").asText())
                .isEqualTo("CREATE INDEX CONCURRENTLY \"Idx \"\"Odd\"\" é\" ON \"Mixed Case\"\"quote\" (\"Odd \"\"col'; --\")");
        ObjectNode added = send(node, "{\"type\":\"add_column\",\"msg_id\":2,\"table\":" + json("Mixed Case\"quote")
                + ",\"column\":" + json("New 'Col\"") + ",\"default_sql\":\"md5(random()::text)\"}");
        assertThat(added.get("type").asText()).isEqualTo("column_added");
        ObjectNode migrated = send(node, "{\"type\":\"migrate_data\",\"msg_id\":3,\"table\":" + json("Mixed Case\"quote")
                + ",\"batch_size\":100,\"set\":{" + json("Odd \"col'; --") + ":\"1\"}}");
        assertThat(migrated.get("type").asText()).isEqualTo("data_migrated");
        assertThat(code(node, index(null, "Mixed Case\"quote", "Odd \"col'; --", "Idx \"Odd\" é"))).isEqualTo(21);
        // The same letters in another case are another name.
        assertThat(send(node, index(null, "Mixed Case\"quote", "Odd \"col'; --", "idx \"odd\" é")).get("type").asText())
                .isEqualTo("index_created");
        ObjectNode upper = send(node, index(null, "MIXED CASE\"QUOTE", "Odd \"col'; --", "i2"));
        assertThat(upper.get("steps").get(0).get("sql").asText()).endsWith("ON \"MIXED CASE\"\"QUOTE\" (\"Odd \"\"col'; --\")");
        assertThat(upper.get("assumptions").toString()).as("another table, assumed").contains("MIXED CASE");
    }

    @Test
    void aSchemaFileNamesSchemasAndAnUnqualifiedNameIsNotTheirs(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("schema.json");
        Files.writeString(file, """
                {"tables": {"users": {"rows": 10, "columns": {"id": {"type": "bigint", "nullable": false}}, "primary_key": ["id"]}},
                 "schemas": {"tenant_a": {"accounts": {"rows": 10, "columns": {"id": {"type": "bigint", "nullable": false},
                                                        "n": {"type": "int"}}, "primary_key": ["id"],
                                                        "indexes": {"accounts_n": {"columns": ["n"]}}}}}}""");
        Handlers node = handlers("--schema", file.toString());
        assertThat(code(node, index(null, "accounts", "n", "other_n"))).as("no unqualified accounts").isEqualTo(20);
        assertThat(code(node, index("tenant_a", "accounts", "n", "accounts_n"))).as("its index is known").isEqualTo(21);
        assertThat(send(node, index("tenant_a", "accounts", "n", "other_n")).get("type").asText()).isEqualTo("index_created");
        assertThat(code(node, index("tenant_b", "accounts", "n", "other_n"))).isEqualTo(20);
    }

    @Test
    void schemaFromReadsEverySchemaOnTheSearchPathAndResolvesAsTheServer() throws Exception {
        Database shared = SharedPostgres.database();
        try (Connection c = shared.connect("zdm-test"); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS sim_first CASCADE");
            s.execute("DROP SCHEMA IF EXISTS sim_second CASCADE");
            s.execute("CREATE SCHEMA sim_first");
            s.execute("CREATE SCHEMA sim_second");
            // Only in the second schema: an unqualified name finds it there.
            s.execute("CREATE TABLE sim_second.sim_orders (id bigint PRIMARY KEY, total int)");
            s.execute("CREATE INDEX sim_orders_total ON sim_second.sim_orders (total)");
            // In both: the first one's wins.
            s.execute("CREATE TABLE sim_first.sim_items (id bigint PRIMARY KEY, a int)");
            s.execute("CREATE TABLE sim_second.sim_items (id bigint PRIMARY KEY, b int)");
        }
        String url = shared.jdbcUrl() + (shared.jdbcUrl().contains("?") ? "&" : "?") + "user="
                + shared.properties().getProperty("user") + "&currentSchema=sim_first,sim_second";
        Handlers node = handlers("--schema-from", url);
        assertThat(code(node, index(null, "sim_orders", "total", "sim_orders_total")))
                .as("found in sim_second with its index").isEqualTo(21);
        ObjectNode other = send(node, index(null, "sim_orders", "total", "sim_orders_total2"));
        // Named as the request named it, as the PostgreSQL engine names it: the server finds sim_second's.
        assertThat(other.get("steps").get(0).get("sql").asText()).contains("ON \"sim_orders\" (");
        assertThat(code(node, index("sim_second", "sim_orders", "total", "sim_orders_total2")))
                .as("the index went to sim_second's table").isEqualTo(21);
        assertThat(send(node, index("sim_second", "sim_orders", "total", "sim_orders_total3")).get("type").asText())
                .isEqualTo("index_created");
        assertThat(send(node, index(null, "sim_items", "a", "items_a")).get("type").asText()).isEqualTo("index_created");
        assertThat(code(node, index(null, "sim_items", "b", "items_b"))).as("sim_first's has no b").isEqualTo(20);
        assertThat(send(node, index("sim_second", "sim_items", "b", "items_b")).get("type").asText())
                .isEqualTo("index_created");
        assertThat(code(node, index("sim_first", "sim_orders", "total", "x"))).isEqualTo(20);
    }
}
