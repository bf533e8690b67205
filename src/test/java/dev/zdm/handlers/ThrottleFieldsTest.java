package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.ServerVersion;
import dev.zdm.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

/** The throttle's request fields are read and checked like every other field (error 12 when out of range). */
class ThrottleFieldsTest {

    private final SimulatedNode node = new SimulatedNode(ServerVersion.DEFAULT, 10_000);

    @Test
    void outOfRangeThrottleFieldsAreMalformed() {
        for (String field : new String[] {"\"max_replica_lag_ms\":0", "\"max_active_sessions\":-1",
                "\"max_throttle_ms\":0", "\"max_replica_lag_ms\":\"soon\"", "\"batch_time_ms\":0",
                "\"batch_time_ms\":\"fast\""}) {
            assertThat(node.fails("""
                    {"type":"migrate_data","table":"users","batch_size":1000,%s}""".formatted(field)).code())
                    .as(field).isEqualTo(ErrorCode.MALFORMED_REQUEST);
        }
    }

    @Test
    void theSimulatorTakesThemAndHasNothingToWatch() {
        var reply = node.send("""
                {"type":"migrate_data","table":"users","batch_size":1000,"total_rows":10000,
                 "max_replica_lag_ms":500,"max_active_sessions":8,"max_throttle_ms":60000,"batch_time_ms":100}""");
        assertThat(reply.get("type").asText()).isEqualTo("data_migrated");
        assertThat(reply.get("batches").asInt()).isEqualTo(10);
    }
}
