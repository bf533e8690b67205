package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.config.Config;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Request;
import dev.zdm.simulator.SimulatorEngine;
import org.junit.jupiter.api.Test;

/** The same request sent again is the same operation: pacing and order do not count, what it changes does. */
class OperationIdentityTest {

    private final MigrateDataHandler migrate = new MigrateDataHandler(
            SimulatorEngine.withUsersTable(dev.zdm.pg.ServerVersion.DEFAULT, 1_000, 3), Config.DEFAULT_LOCK_BUDGET);

    private String identity(String body) throws Exception {
        Request request = new Request("admin", "migrations", (ObjectNode) Json.MAPPER.readTree(body));
        return migrate.identity(migrate.parse(request));
    }

    @Test
    void batchSizePacingAndTheOrderOfSetDoNotMakeAnotherOperation() throws Exception {
        assertThat(identity("""
                {"type":"migrate_data","msg_id":1,"table":"users","batch_size":10,"set":{"name":"upper(name)","email":"lower(email)"}}"""))
                .isEqualTo(identity("""
                {"type":"migrate_data","msg_id":2,"table":"users","batch_size":500,"sleep_ms":5,"max_lock_duration_ms":9,
                 "set":{"email":"lower(email)","name":"upper(name)"}}"""));
    }

    @Test
    void whatItChangesDoes() throws Exception {
        String base = identity("""
                {"type":"migrate_data","msg_id":1,"table":"users","batch_size":10,"set":{"name":"upper(name)"}}""");
        assertThat(identity("""
                {"type":"migrate_data","msg_id":1,"table":"users","batch_size":10,"set":{"name":"lower(name)"}}""")).isNotEqualTo(base);
        assertThat(identity("""
                {"type":"migrate_data","msg_id":1,"table":"users","batch_size":10,"set":{"name":"upper(name)"},"total_rows":5}"""))
                .isNotEqualTo(base);
        assertThat(identity("""
                {"type":"migrate_data","msg_id":1,"table":"users","batch_size":10,"set":{"name":"upper(name)"},"where":"id > 3"}"""))
                .isNotEqualTo(base);
    }
}
