package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.CatalogView.IndexState;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.simulator.CostModel;
import dev.zdm.pg.TableWork;
import org.junit.jupiter.api.Test;

class CreateIndexHandlerTest {

    private final SimulatedNode node = new SimulatedNode();

    @Test
    void the_seed_example_replies_with_exactly_the_seed_keys() {
        var reply = node.send("""
                {"type":"create_index","table":"users","column":"email","concurrently":true}""");
        assertThat(reply.toString()).isEqualTo("""
                {"type":"index_created","in_reply_to":1,"index":"idx_email","duration_seconds":120,"table_locked":false}""");
    }

    @Test
    void the_duration_comes_from_the_cost_model_and_scales_with_rows() {
        var small = new SimulatedNode(ServerVersion.DEFAULT, 600_000);
        var reply = small.send("""
                {"type":"create_index","table":"users","column":"email"}""");
        double expected = CostModel.reported(CostModel.DEFAULT.statement(TableWork.BUILD_INDEX_CONCURRENTLY, 600_000));
        assertThat(reply.get("duration_seconds").asDouble()).isEqualTo(expected).isLessThan(120);
    }

    @Test
    void without_concurrently_the_build_locks_the_table() {
        var reply = node.send("""
                {"type":"create_index","table":"users","column":"email","concurrently":false}""");
        assertThat(reply.get("table_locked").asBoolean()).isTrue();
        assertThat(node.engine.catalog().index(SqlName.of("idx_email"))).contains(IndexState.VALID);
    }

    @Test
    void an_explicit_name_and_several_columns() {
        var reply = node.send("""
                {"type":"create_index","table":"users","columns":["name","email"],"index":"by_name_email","unique":true}""");
        assertThat(reply.get("index").asText()).isEqualTo("by_name_email");
        assertThat(node.engine.model().indexes().get(SqlName.of("by_name_email")).unique()).isTrue();
    }

    @Test
    void an_existing_index_is_error_21_and_a_missing_column_error_20() {
        node.send("""
                {"type":"create_index","table":"users","column":"email"}""");
        assertThat(node.fails("""
                {"type":"create_index","table":"users","column":"email"}""").code()).isEqualTo(ErrorCode.KEY_ALREADY_EXISTS);
        assertThat(node.fails("""
                {"type":"create_index","table":"users","column":"phone"}""").code()).isEqualTo(ErrorCode.KEY_DOES_NOT_EXIST);
    }

    @Test
    void column_and_columns_together_or_neither_are_malformed() {
        assertThat(node.fails("""
                {"type":"create_index","table":"users","column":"email","columns":["name"]}""").code())
                .isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(node.fails("""
                {"type":"create_index","table":"users"}""").code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(node.fails("""
                {"type":"create_index","table":"users","columns":["email","email"]}""").code())
                .isEqualTo(ErrorCode.MALFORMED_REQUEST);
        // Names are exact: EMAIL is another column than email, one users does not have.
        assertThat(node.fails("""
                {"type":"create_index","table":"users","columns":["email","EMAIL"]}""").code())
                .isEqualTo(ErrorCode.KEY_DOES_NOT_EXIST);
    }

    @Test
    void a_writer_in_the_way_aborts_the_concurrent_build_leaving_its_invalid_index_until_the_writer_ends() {
        node.send("""
                {"type":"open_transaction","session":"w","table":"users","mode":"ROW EXCLUSIVE"}""");
        var error = node.fails("""
                {"type":"create_index","table":"users","column":"email","max_lock_duration_ms":250}""");
        assertThat(error.code()).isEqualTo(ErrorCode.ABORT);
        assertThat(error.details()).containsEntry("waited_ms", 250L).containsEntry("rolled_back", true)
                .containsEntry("attempts", 1);
        // As on the server: the writer that stopped the build stops DROP INDEX CONCURRENTLY too.
        assertThat(node.engine.catalog().index(SqlName.of("idx_email"))).contains(CatalogView.IndexState.INVALID);
        node.send("""
                {"type":"close_transaction","session":"w"}""");
        assertThat(node.engine.catalog().index(SqlName.of("idx_email"))).isEmpty();
    }

    @Test
    void the_next_plan_drops_a_leftover_the_janitor_could_not_drop_yet() {
        node.send("""
                {"type":"open_transaction","session":"w","table":"users","mode":"ROW EXCLUSIVE","duration_seconds":1}""");
        node.fails("""
                {"type":"create_index","table":"users","column":"email","max_lock_duration_ms":250}""");
        assertThat(node.engine.catalog().index(SqlName.of("idx_email"))).contains(CatalogView.IndexState.INVALID);
        // Another request naming the same index (the same one again would first settle its own undo).
        var reply = node.send("""
                {"type":"create_index","table":"users","column":"email","unique":true,"index":"idx_email","explain":true}""");
        assertThat(reply.get("steps")).hasSize(2);
        assertThat(reply.get("steps").get(0).get("sql").asText()).startsWith("DROP INDEX CONCURRENTLY");
        assertThat(node.engine.catalog().index(SqlName.of("idx_email"))).contains(CatalogView.IndexState.VALID);
    }

    @Test
    void an_index_named_like_a_table_is_error_21_as_one_name_space() {
        var error = node.fails("""
                {"type":"create_index","table":"users","column":"email","index":"users"}""");
        assertThat(error.code()).isEqualTo(ErrorCode.KEY_ALREADY_EXISTS);
        assertThat(error.getMessage()).contains("relation users already exists");
        assertThat(node.fails("""
                {"type":"create_index","table":"users","column":"email","index":"users_pkey"}""").code())
                .isEqualTo(ErrorCode.KEY_ALREADY_EXISTS);
    }

    @Test
    void explain_lists_the_statement_and_its_lock() {
        var reply = node.send("""
                {"type":"create_index","table":"users","column":"email","explain":true}""");
        assertThat(reply.get("steps")).hasSize(1);
        assertThat(reply.get("steps").get(0).get("lock").asText()).isEqualTo("SHARE UPDATE EXCLUSIVE");
        assertThat(reply.get("steps").get(0).get("sql").asText()).contains("CONCURRENTLY");
    }

    @Test
    void behind_an_access_exclusive_holder_the_build_loses_at_its_first_read_and_is_not_retried() {
        node.send("""
                {"type":"open_transaction","session":"ddl","table":"users","mode":"ACCESS EXCLUSIVE"}""");
        var error = node.fails("""
                {"type":"create_index","table":"users","column":"email","max_lock_duration_ms":250}""");
        assertThat(error.details()).containsEntry("waited_ms", 250L).containsEntry("attempts", 1);
        // Nothing was made: the read came before the build's catalog entry.
        assertThat(node.engine.catalog().index(SqlName.of("idx_email"))).isEmpty();
    }

    @Test
    void behind_a_writer_a_plain_build_has_one_attempt_and_a_concurrent_one_waits_the_writer_out() {
        node.send("""
                {"type":"open_transaction","session":"w","table":"users","mode":"ROW EXCLUSIVE","duration_seconds":0.4}""");
        var plain = node.fails("""
                {"type":"create_index","table":"users","column":"name","concurrently":false,"max_lock_duration_ms":250}""");
        assertThat(plain.details()).containsEntry("attempts", 1);
        var concurrent = node.send("""
                {"type":"create_index","table":"users","column":"email","max_lock_duration_ms":250}""");
        assertThat(concurrent.get("type").asText()).isEqualTo("index_created");
    }

    @Test
    void the_same_request_again_first_finishes_the_undo_and_says_so_when_it_cannot() {
        node.send("""
                {"type":"open_transaction","session":"w","table":"users","mode":"ROW EXCLUSIVE"}""");
        String request = """
                {"type":"create_index","table":"users","column":"email","max_lock_duration_ms":250}""";
        node.fails(request);
        // The writer still holds the table: the INVALID index cannot go yet, nothing is built.
        var again = node.fails(request);
        assertThat(again.details()).containsEntry("rolled_back", false).containsEntry("attempts", 0);
        assertThat(again.getMessage()).contains("idx_email");
        // Another request naming that index drops it as its first step, in attempts like a build's.
        var other = node.fails("""
                {"type":"create_index","table":"users","column":"name","index":"idx_email","max_lock_duration_ms":250}""");
        assertThat(other.details()).containsEntry("rolled_back", true)
                .containsEntry("attempts", dev.zdm.pg.RetryPolicy.of(dev.zdm.config.Config.DEFAULT_RETRIES).attempts());
        node.send("""
                {"type":"close_transaction","session":"w"}""");
        assertThat(node.send(request).get("type").asText()).isEqualTo("index_created");
    }

    @Test
    void an_undo_owed_for_an_index_the_janitor_dropped_is_not_owed_for_another_of_that_name() {
        node.send("""
                {"type":"open_transaction","session":"w1","table":"users","mode":"ROW EXCLUSIVE"}""");
        String a = """
                {"type":"create_index","table":"users","column":"email","max_lock_duration_ms":250}""";
        node.fails(a);
        node.send("""
                {"type":"close_transaction","session":"w1"}""");
        assertThat(node.engine.catalog().index(SqlName.of("idx_email"))).isEmpty();
        node.send("""
                {"type":"open_transaction","session":"w2","table":"users","mode":"ROW EXCLUSIVE"}""");
        node.fails("""
                {"type":"create_index","table":"users","column":"name","index":"idx_email","max_lock_duration_ms":250}""");
        // A's index is gone: A sent again owes nothing, and meets the other request's leftover as a plan step.
        var again = node.fails(a);
        assertThat(again.details()).containsEntry("rolled_back", true)
                .containsEntry("attempts", dev.zdm.pg.RetryPolicy.of(dev.zdm.config.Config.DEFAULT_RETRIES).attempts());
    }

    @Test
    void another_request_drops_a_leftover_once_its_lock_is_free_and_the_lockers_have_ended() {
        node.send("""
                {"type":"open_transaction","session":"r","table":"users","mode":"ACCESS SHARE","duration_seconds":0.9}""");
        node.send("""
                {"type":"open_transaction","session":"w","table":"users","mode":"ROW EXCLUSIVE","duration_seconds":0.3}""");
        node.fails("""
                {"type":"create_index","table":"users","column":"email","max_lock_duration_ms":250}""");
        assertThat(node.engine.catalog().index(SqlName.of("idx_email"))).contains(CatalogView.IndexState.INVALID);
        node.send("""
                {"type":"open_transaction","session":"s","table":"users","mode":"SHARE","duration_seconds":0.2}""");
        // SHARE UPDATE EXCLUSIVE waits 0.2 s for s, then DROP INDEX CONCURRENTLY 0.2 s more for r.
        var reply = node.send("""
                {"type":"create_index","table":"users","column":"email","unique":true,"index":"idx_email",
                 "max_lock_duration_ms":250,"explain":true}""");
        assertThat(reply.get("steps").get(0).get("sql").asText()).startsWith("DROP INDEX CONCURRENTLY");
        assertThat(node.engine.catalog().index(SqlName.of("idx_email"))).contains(CatalogView.IndexState.VALID);
    }
}
