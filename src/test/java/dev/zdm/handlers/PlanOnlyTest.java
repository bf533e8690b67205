package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.SqlName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** plan: true on the simulator: the prediction, and the model left as it was. */
class PlanOnlyTest {

    private final SimulatedNode node = new SimulatedNode();

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"type\":\"create_index\",\"table\":\"users\",\"column\":\"email\"}",
            "{\"type\":\"create_index\",\"table\":\"users\",\"column\":\"email\",\"concurrently\":false}",
            "{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"status\",\"default\":\"active\",\"nullable\":false}",
            "{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"score\",\"data_type\":\"float8\",\"default_sql\":\"random()\",\"nullable\":false}",
            "{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"score\",\"data_type\":\"float8\",\"default_sql\":\"random()\",\"safe\":false}",
            "{\"type\":\"migrate_data\",\"table\":\"users\",\"batch_size\":1000,\"total_rows\":10000}",
            "{\"type\":\"migrate_data\",\"table\":\"users\",\"batch_size\":5000,\"set\":{\"name\":\"upper(name)\"}}"})
    void the_plan_changes_nothing_and_predicts_what_the_run_then_answers(String body) {
        var model = node.engine.model();
        var columns = model.columns(SqlName.of("users"));
        var indexes = model.indexes();
        double clock = node.engine.now();

        ObjectNode planned = node.send(body.replaceFirst("\\{", "{\"plan\":true,"));

        assertThat(planned.get("type").asText()).as(planned.toString()).isEqualTo("planned");
        assertThat(planned.get("operation").asText()).isEqualTo(body.replaceAll(".*\"type\":\"([a-z_]+)\".*", "$1"));
        assertThat(planned.get("steps").size()).isPositive();
        planned.get("steps").forEach(step -> {
            assertThat(step.get("seconds").asDouble()).isGreaterThanOrEqualTo(step.get("lock_wait_seconds").asDouble());
            assertThat(step.has("lock")).isTrue();
        });
        assertThat(model.columns(SqlName.of("users"))).isEqualTo(columns);
        assertThat(model.indexes()).isEqualTo(indexes);
        assertThat(node.engine.now()).isEqualTo(clock);

        ObjectNode ran = node.send(body);
        ran.remove("in_reply_to");
        assertThat(planned.get("would_reply")).isEqualTo(ran);
        if (ran.has("duration_seconds")) {
            assertThat(planned.get("duration_seconds")).isEqualTo(ran.get("duration_seconds"));
        }
    }

    @Test
    void in_the_open_world_what_a_plan_assumes_is_not_remembered() {
        var engine = new dev.zdm.simulator.SimulatorEngine(dev.zdm.pg.ServerVersion.DEFAULT,
                dev.zdm.simulator.SimCatalog.openWorld(1000, dev.zdm.pg.ServerVersion.DEFAULT),
                dev.zdm.simulator.CostModel.DEFAULT, dev.zdm.pg.RetryPolicy.of(3));
        Handlers handlers = Handlers.forEngine(engine, SimulatedNode.BUDGET);
        ObjectNode planned = handlers.handle(new dev.zdm.protocol.Request("a", "z", json("""
                {"type":"migrate_data","msg_id":1,"table":"orders","batch_size":100,"set":{"state":"'x'"},"plan":true}""")));
        assertThat(planned.get("assumptions").toString()).contains("assumes table orders exists", "column orders.state");
        assertThat(engine.model().columns(SqlName.of("orders"))).isEmpty();
        // Run for real, the column the plan assumed is not there to collide with.
        assertThat(handlers.handle(new dev.zdm.protocol.Request("a", "z", json("""
                {"type":"add_column","msg_id":2,"table":"orders","column":"state"}"""))).get("type").asText())
                .isEqualTo("column_added");
    }

    private static ObjectNode json(String text) {
        try {
            return (ObjectNode) dev.zdm.protocol.Json.MAPPER.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void an_open_transaction_is_in_the_prediction_and_still_holds_its_lock_after() {
        node.send("""
                {"type":"open_transaction","session":"app","table":"users","mode":"ROW EXCLUSIVE","duration_seconds":30}""");
        ObjectNode planned = node.send("""
                {"type":"add_column","table":"users","column":"c","plan":true,"max_lock_duration_ms":60000}""");
        assertThat(planned.get("steps").get(0).get("lock_wait_seconds").asDouble()).isEqualTo(30);
        assertThat(planned.get("steps").get(0).get("lock_held_seconds").asDouble()).isEqualTo(0.1);
        // The session was not ended by the plan's clock: a run with a short budget still meets it.
        assertThat(node.fails("""
                {"type":"add_column","table":"users","column":"c"}""").code().code()).isEqualTo(14);
    }

    @Test
    void a_batched_step_holds_its_lock_one_batch_at_a_time() {
        ObjectNode planned = node.send("""
                {"type":"migrate_data","table":"users","batch_size":1000,"plan":true}""");
        var step = planned.get("steps").get(0);
        assertThat(step.get("batched").asBoolean()).isTrue();
        assertThat(step.get("lock_held_seconds").asDouble() * 6_000).isCloseTo(step.get("seconds").asDouble(),
                org.assertj.core.data.Offset.offset(step.get("seconds").asDouble() * 0.01));
    }
}
