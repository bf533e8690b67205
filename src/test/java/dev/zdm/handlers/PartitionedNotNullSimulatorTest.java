package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Request;
import dev.zdm.schema.Schema;
import dev.zdm.schema.SchemaFile;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** add_column NOT NULL on a partitioned parent: the ALTERs without ONLY reach every partition in the model too. */
class PartitionedNotNullSimulatorTest {

    private static final String SCHEMA = """
            {"server_version": %d,
             "tables": {"sales": {"rows": 0, "columns": {"id": {"type": "bigint"}, "region": {"type": "text"}},
                                  "partition_by": ["region"]},
                        "sales_eu": {"rows": 10, "columns": {"id": {"type": "bigint"}, "region": {"type": "text"}},
                                     "partition_of": "sales"},
                        "sales_us": {"rows": 0, "columns": {"id": {"type": "bigint"}, "region": {"type": "text"}},
                                     "partition_of": "sales", "partition_by": ["id"]},
                        "sales_us_low": {"rows": 10, "columns": {"id": {"type": "bigint"}, "region": {"type": "text"}},
                                         "partition_of": "sales_us"}}}""";

    @ParameterizedTest
    @ValueSource(ints = {11, 15, 18})
    void aSerialNotNullColumnIsNotNullInEveryPartition(int version) throws Exception {
        ServerVersion v = new ServerVersion(version);
        Schema schema = SchemaFile.parse(Json.MAPPER.readTree(SCHEMA.formatted(version)));
        SimulatorEngine engine = new SimulatorEngine(v, SimCatalog.of(schema, v), CostModel.DEFAULT, RetryPolicy.of(3));
        Handlers handlers = Handlers.forEngine(engine, Duration.ofMillis(2000));
        ObjectNode body = (ObjectNode) Json.MAPPER.readTree("""
                {"type":"add_column","table":"sales","column":"n","data_type":"bigserial","nullable":false,"msg_id":1}""");
        ObjectNode reply = handlers.handle(new Request("admin", "migrations", body));
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
        // From 12 SET NOT NULL and the temporary CHECK dropped; before, the validated CHECK stays as the guarantee.
        boolean setNotNull = v.setNotNullTrustsValidatedCheck();
        for (String table : List.of("sales", "sales_eu", "sales_us", "sales_us_low")) {
            assertThat(engine.catalog().columnFacts(SqlName.of(table), SqlName.of("n")).orElseThrow().notNull())
                    .as(table).isEqualTo(setNotNull);
            assertThat(names(engine, table)).as(table).isEqualTo(names(engine, "sales"));
        }
        assertThat(names(engine, "sales").stream().anyMatch(n -> n.startsWith("sales_n_"))).isEqualTo(!setNotNull || version >= 18);
    }

    private static List<String> names(SimulatorEngine engine, String table) {
        return engine.catalog().constraints(SqlName.of(table)).stream().map(c -> c.name().value())
                .filter(n -> n.startsWith("sales_n_")).sorted().toList();
    }

    @org.junit.jupiter.api.Test
    void on18APartitionsNotNullFromTheParentsAddColumnBearsTheParentsName() throws Exception {
        ServerVersion v = new ServerVersion(18);
        Schema schema = SchemaFile.parse(Json.MAPPER.readTree(SCHEMA.formatted(18)));
        SimulatorEngine engine = new SimulatorEngine(v, SimCatalog.of(schema, v), CostModel.DEFAULT, RetryPolicy.of(3));
        Handlers handlers = Handlers.forEngine(engine, Duration.ofMillis(2000));
        ObjectNode body = (ObjectNode) Json.MAPPER.readTree("""
                {"type":"add_column","table":"sales","column":"status","data_type":"text","default":"x","nullable":false,
                 "msg_id":1}""");
        ObjectNode reply = handlers.handle(new Request("admin", "migrations", body));
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
        for (String table : List.of("sales", "sales_eu", "sales_us", "sales_us_low")) {
            assertThat(engine.catalog().constraints(SqlName.of(table)).stream()
                    .filter(c -> c.columns().equals(List.of(SqlName.of("status")))).map(c -> c.name().value()).toList())
                    .as(table).containsExactly("sales_status_not_null");
        }
    }
}
