package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The migration message on the simulator: order, stop, resume, refusal, and that nothing runs twice. */
class MigrationHandlerTest {

    private static final SqlName USERS = SqlName.of("users");
    private final SimulatedNode node = new SimulatedNode();

    private static String migration(String name, String... operations) {
        return "{\"type\":\"migration\",\"name\":\"" + name + "\",\"operations\":[" + String.join(",", operations) + "]}";
    }

    private static final String ADD_A = "{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"a\",\"data_type\":\"int\"}";
    private static final String ADD_B = "{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"b\"}";
    private static final String INDEX_A = "{\"type\":\"create_index\",\"table\":\"users\",\"column\":\"a\"}";
    private static final String ADD_A_AGAIN = "{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"a\"}";

    private long operationsRun() {
        return node.engine.operationCounts().values().stream().mapToLong(Long::longValue).sum();
    }

    private static List<String> statuses(JsonNode reply) {
        List<String> statuses = new ArrayList<>();
        reply.get("operations").forEach(op -> statuses.add(op.get("status").asText()));
        return statuses;
    }

    @Test
    void operations_run_in_order_each_answered_as_its_own_request_would_be() {
        var reply = node.send(migration("0001", ADD_A, INDEX_A, ADD_B));
        assertThat(reply.get("type").asText()).isEqualTo("migration_applied");
        assertThat(reply.get("applied").asInt()).isEqualTo(3);
        assertThat(statuses(reply)).containsExactly("applied", "applied", "applied");
        // The index on a is built after a was added: order kept.
        assertThat(node.engine.model().index(SqlName.of("idx_a"))).isPresent();
        var alone = new SimulatedNode().send(ADD_A);
        var nested = (com.fasterxml.jackson.databind.node.ObjectNode) reply.get("operations").get(0).get("reply");
        alone.remove("in_reply_to");
        assertThat(nested.toString()).isEqualTo(alone.toString());
    }

    @Test
    void a_failure_stops_the_migration_and_the_resend_resumes_at_it_running_nothing_twice() {
        var failed = node.fails(migration("0002", ADD_A, ADD_A_AGAIN, ADD_B));
        assertThat(failed.code()).isEqualTo(ErrorCode.KEY_ALREADY_EXISTS);
        assertThat(failed.details().get("failed_operation")).isEqualTo(2);
        JsonNode outcomes = Json.MAPPER.valueToTree(failed.details().get("operations"));
        assertThat(outcomes.get(1).get("reply").get("code").asInt()).isEqualTo(21);
        assertThat(outcomes.get(2).get("status").asText()).isEqualTo("not_run");
        assertThat(node.engine.model().table(USERS).columns()).doesNotContainKey(SqlName.of("b"));
        long runBefore = operationsRun();

        // The cause fixed in the migration itself: an operation not yet applied may change.
        var resumed = node.send(migration("0002", ADD_A, ADD_B));
        assertThat(statuses(resumed)).containsExactly("applied_before", "applied");
        assertThat(operationsRun()).isEqualTo(runBefore + 1);

        var again = node.send(migration("0002", ADD_A, ADD_B));
        assertThat(statuses(again)).containsExactly("applied_before", "applied_before");
        assertThat(again.get("applied").asInt()).isZero();
        assertThat(operationsRun()).isEqualTo(runBefore + 1);
        // A finished migration answers the replies recorded when each operation ran.
        for (int op = 0; op < 2; op++) {
            assertThat(again.get("operations").get(op).get("reply")).isEqualTo(resumed.get("operations").get(op).get("reply"));
        }
    }

    @Test
    void what_was_applied_may_not_change_and_a_finished_migration_is_not_extended() {
        node.send(migration("0003", ADD_A));
        assertThat(node.fails(migration("0003", ADD_B)).code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(node.fails(migration("0003", ADD_A, ADD_B)).code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(node.engine.model().table(USERS).columns()).doesNotContainKey(SqlName.of("b"));
    }

    @Test
    void the_same_operation_in_another_key_order_or_with_a_msg_id_is_the_same() {
        node.send(migration("0004", ADD_A));
        var reply = node.send(migration("0004",
                "{\"msg_id\":99,\"data_type\":\"int\",\"column\":\"a\",\"table\":\"users\",\"type\":\"add_column\"}"));
        assertThat(statuses(reply)).containsExactly("applied_before");
    }

    @Test
    void a_malformed_or_unknown_operation_anywhere_runs_nothing() {
        var malformed = node.fails(migration("0005", ADD_A, "{\"type\":\"create_index\",\"table\":\"users\"}"));
        assertThat(malformed.code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(malformed.getMessage()).startsWith("operation 2 of 2 (create_index)");
        var unknown = node.fails(migration("0005", ADD_A, "{\"type\":\"migration\",\"name\":\"x\",\"operations\":[]}"));
        assertThat(unknown.code()).isEqualTo(ErrorCode.NOT_SUPPORTED);
        assertThat(node.fails(migration("0005")).code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(node.fails(migration("0005", ADD_A.replace("}", ",\"plan\":true}"))).getMessage())
                .contains("plan is for a single request");
        assertThat(node.fails(migration("", ADD_A)).code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(operationsRun()).isZero();
        assertThat(node.engine.model().table(USERS).columns()).doesNotContainKey(SqlName.of("a"));
    }

    @Test
    void status_lists_what_ran_and_what_a_stopped_migration_has_left() {
        node.fails(migration("0006", ADD_A, ADD_A_AGAIN, INDEX_A));
        var status = node.send("{\"type\":\"status\"}");
        assertThat(status.get("engine").asText()).isEqualTo("simulator");
        assertThat(status.get("operation_counts").get("done").asLong()).isEqualTo(1);
        assertThat(status.get("operations").get(0).get("type").asText()).isEqualTo("add_column");
        JsonNode m = status.get("migrations").get(0);
        assertThat(m.get("state").asText()).isEqualTo("failed");
        assertThat(m.get("operations_done").asInt()).isEqualTo(1);
        assertThat(m.get("failed_operation").asInt()).isEqualTo(2);
        assertThat(m.get("error").get("code").asInt()).isEqualTo(21);
        assertThat(m.get("left")).hasSize(2);
        assertThat(m.get("left").get(1).get("type").asText()).isEqualTo("create_index");
        assertThat(node.fails("{\"type\":\"status\",\"limit\":0}").code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
    }

    private static final String DOUBLE = "{\"type\":\"migrate_data\",\"table\":\"users\",\"batch_size\":100000,"
            + "\"set\":{\"name\":\"name || name\"}}";

    /** The simulated seconds a message takes: a backfill that runs its batches takes them, one recognized as done none. */
    private static double seconds(SimulatedNode on, String json) {
        double before = on.engine.now();
        on.send(json);
        return on.engine.now() - before;
    }

    @Test
    void an_operation_is_its_migrations_own_at_its_place_there() {
        double once = seconds(new SimulatedNode(), migration("once", DOUBLE));
        assertThat(once).isPositive();
        double twice = seconds(node, migration("twice", DOUBLE, DOUBLE));
        assertThat(twice).as("the second of [M, M] runs too").isGreaterThan(once * 1.5);
        assertThat(seconds(node, migration("again", DOUBLE))).as("M in another migration runs").isGreaterThan(once / 2);
        var resent = node.send(migration("twice", DOUBLE, DOUBLE));
        assertThat(resent.get("applied").asInt()).isZero();
        assertThat(resent.get("applied_before").asInt()).isEqualTo(2);
        assertThat(seconds(node, DOUBLE)).as("alone, M is no migration's").isGreaterThan(once / 2);
        // The place is the migration's to give: a request (alone or in a migration) that sends it is refused.
        assertThat(node.fails(DOUBLE.replace("}}", "},\"zdm_migration_place\":\"1:twice\"}")).code())
                .isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(node.fails(migration("forged", DOUBLE.replace("}}", "},\"zdm_migration_place\":\"1:twice\"}"))).code())
                .isEqualTo(ErrorCode.MALFORMED_REQUEST);
    }
}
