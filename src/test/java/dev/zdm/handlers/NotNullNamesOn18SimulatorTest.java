package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Request;
import dev.zdm.schema.SchemaFile;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * From 18 a column's NOT NULL is a named constraint (found by the fuzzer on 18.0): CREATE TABLE makes one
 * per NOT NULL column, a key's included, and a parent's ADD COLUMN ... NOT NULL hands its children the
 * parent's constraint name.
 */
class NotNullNamesOn18SimulatorTest {

    private static final String SCHEMA = """
            {"server_version": %d,
             "tables": {"users": {"rows": 0, "columns": {"id": {"type": "bigint"}}},
                        "users_kid": {"rows": 0, "columns": {"id": {"type": "bigint"}}, "inherits": "users"}}}""";

    private SimulatorEngine engine;
    private Handlers handlers;

    private void open(int version) throws Exception {
        ServerVersion v = new ServerVersion(version);
        engine = new SimulatorEngine(v, SimCatalog.of(SchemaFile.parse(Json.MAPPER.readTree(SCHEMA.formatted(version))), v),
                CostModel.DEFAULT, RetryPolicy.of(3));
        handlers = Handlers.forEngine(engine, Duration.ofMillis(2000));
    }

    private ObjectNode send(String json) throws Exception {
        return handlers.handle(new Request("admin", "zdm", (ObjectNode) Json.MAPPER.readTree(json)));
    }

    private List<String> notNulls(String table) {
        return engine.model().constraints(SqlName.of(table)).stream()
                .filter(c -> c.kind() == ConstraintInfo.Kind.NOT_NULL)
                .map(c -> c.name().value() + " " + c.columns().get(0).value()).sorted().toList();
    }

    @Test
    void createTableNamesTheNotNullOfEachNotNullColumnOn18Only() throws Exception {
        open(18);
        ObjectNode reply = send("""
                {"type":"create_table","msg_id":1,"table":"orders","columns":{"id":{"type":"bigserial"},
                 "note":{"type":"text","nullable":false},"memo":{"type":"text"}},"primary_key":["id"]}""");
        assertThat(reply.get("type").asText()).isEqualTo("table_created");
        assertThat(notNulls("orders")).containsExactly("orders_id_not_null id", "orders_note_not_null note");

        open(17);
        send("""
                {"type":"create_table","msg_id":1,"table":"orders","columns":{"id":{"type":"bigserial"}},"primary_key":["id"]}""");
        assertThat(notNulls("orders")).isEmpty();
    }

    @Test
    void aChildInheritsTheParentsNotNullName() throws Exception {
        open(18);
        ObjectNode reply = send("""
                {"type":"add_column","msg_id":1,"table":"users","column":"User","data_type":"text","nullable":false}""");
        assertThat(reply.get("type").asText()).isEqualTo("column_added");
        assertThat(notNulls("users")).containsExactly("users_User_not_null User");
        assertThat(notNulls("users_kid")).containsExactly("users_User_not_null User");
    }
}
