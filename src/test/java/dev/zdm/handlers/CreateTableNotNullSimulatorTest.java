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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** create_table in the model: from 18 each NOT NULL column, a primary key's too, has its NOT NULL constraint. */
class CreateTableNotNullSimulatorTest {

    @ParameterizedTest
    @ValueSource(ints = {17, 18})
    void eachNotNullColumnHasItsConstraintFrom18(int version) throws Exception {
        ServerVersion v = new ServerVersion(version);
        var schema = SchemaFile.parse(Json.MAPPER.readTree("""
                {"server_version": %d, "tables": {}}""".formatted(version)));
        SimulatorEngine engine = new SimulatorEngine(v, SimCatalog.of(schema, v), CostModel.DEFAULT, RetryPolicy.of(3));
        Handlers handlers = Handlers.forEngine(engine, Duration.ofMillis(2000));
        ObjectNode body = (ObjectNode) Json.MAPPER.readTree("""
                {"type":"create_table","table":"orders","msg_id":1,"primary_key":["id"],
                 "columns":{"id":{"type":"bigserial"},"note":{"type":"text","nullable":false},"n":{"type":"int"}}}""");
        ObjectNode reply = handlers.handle(new Request("admin", "migrations", body));
        assertThat(reply.get("type").asText()).as(reply.toString()).isNotEqualTo("error");
        var notNull = engine.catalog().constraints(SqlName.of("orders")).stream()
                .filter(c -> c.kind() == ConstraintInfo.Kind.NOT_NULL).map(c -> c.name().value() + " " + c.columns())
                .sorted().toList();
        if (version >= 18) {
            assertThat(notNull).containsExactly("orders_id_not_null [id]", "orders_note_not_null [note]");
        } else {
            assertThat(notNull).isEmpty();
        }
    }
}
