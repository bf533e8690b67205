package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.Json;
import dev.zdm.simulator.CostModel;
import dev.zdm.pg.TableWork;
import org.junit.jupiter.api.Test;

class AddColumnHandlerTest {

    private static final SqlName USERS = SqlName.of("users");
    private final SimulatedNode node = new SimulatedNode();

    @Test
    void the_seed_example_is_a_catalog_only_change() {
        var reply = node.send("""
                {"type":"add_column","table":"users","column":"status","default":"active","nullable":false}""");
        assertThat(reply.toString()).isEqualTo("""
                {"type":"column_added","in_reply_to":1,"duration_seconds":0.1,"table_rewritten":false}""");
        var column = node.engine.model().table(USERS).columns().get(SqlName.of("status"));
        assertThat(column.notNull()).isTrue();
        assertThat(column.defaultSql()).isEqualTo("'active'");
    }

    @Test
    void before_11_a_constant_default_would_rewrite_so_the_node_goes_the_safe_way() {
        var old = new SimulatedNode(new ServerVersion(10), 1_000_000);
        long relfilenode = old.engine.model().table(USERS).relfilenode();
        var reply = old.send("""
                {"type":"add_column","table":"users","column":"status","default":"active","nullable":false}""");
        assertThat(reply.get("table_rewritten").asBoolean()).isFalse();
        assertThat(old.engine.model().table(USERS).relfilenode()).isEqualTo(relfilenode);
        // On 10 SET NOT NULL would scan under ACCESS EXCLUSIVE: the validated CHECK stays instead.
        assertThat(old.engine.model().table(USERS).checks()).hasSize(1);
        assertThat(reply.get("duration_seconds").asDouble())
                .isGreaterThan(CostModel.DEFAULT.statement(TableWork.CATALOG_ONLY, 0));
    }

    @Test
    void a_volatile_default_goes_the_safe_way_and_ends_not_null() {
        var reply = node.send("""
                {"type":"add_column","table":"users","column":"token","data_type":"uuid",
                 "default_sql":"gen_random_uuid()","nullable":false,"explain":true}""");
        assertThat(reply.get("table_rewritten").asBoolean()).isFalse();
        var table = node.engine.model().table(USERS);
        assertThat(table.columns().get(SqlName.of("token")).notNull()).isTrue();
        assertThat(table.checks()).isEmpty();
        assertThat(reply.get("steps")).hasSize(6);
    }

    @Test
    void safe_false_shows_the_rewrite_it_avoids() {
        var reply = node.send("""
                {"type":"add_column","table":"users","column":"score","data_type":"float8",
                 "default_sql":"random()","safe":false}""");
        assertThat(reply.get("table_rewritten").asBoolean()).isTrue();
    }

    @Test
    void errors_for_an_existing_column_a_missing_table_and_not_null_without_default() {
        assertThat(node.fails("""
                {"type":"add_column","table":"users","column":"email"}""").code()).isEqualTo(ErrorCode.KEY_ALREADY_EXISTS);
        assertThat(node.fails("""
                {"type":"add_column","table":"accounts","column":"x"}""").code()).isEqualTo(ErrorCode.KEY_DOES_NOT_EXIST);
        assertThat(node.fails("""
                {"type":"add_column","table":"users","column":"x","nullable":false}""").code())
                .isEqualTo(ErrorCode.PRECONDITION_FAILED);
    }

    @Test
    void a_reader_in_the_way_aborts_and_nothing_is_applied() {
        node.send("""
                {"type":"open_transaction","session":"r","table":"users","mode":"ACCESS SHARE"}""");
        var error = node.fails("""
                {"type":"add_column","table":"users","column":"status","default":"a","max_lock_duration_ms":400}""");
        assertThat(error.code()).isEqualTo(ErrorCode.ABORT);
        assertThat(dev.zdm.engine.BlockedBy.sessions(error.details())).containsExactly("r");
        assertThat(node.engine.catalog().columns(USERS)).doesNotContain(SqlName.of("status"));
    }

    @Test
    void json_defaults_become_sql_literals() {
        assertThat(AddColumnHandler.literal(Json.MAPPER.valueToTree("it's"))).isEqualTo("'it''s'");
        assertThat(AddColumnHandler.literal(Json.MAPPER.valueToTree(42))).isEqualTo("42");
        assertThat(AddColumnHandler.literal(Json.MAPPER.valueToTree(true))).isEqualTo("true");
        assertThat(AddColumnHandler.literal(Json.MAPPER.valueToTree(java.util.Map.of("k", "v")))).isEqualTo("'{\"k\":\"v\"}'");
    }

    @Test
    void sleep_ms_paces_the_backfill_of_the_safe_way() {
        var small = new SimulatedNode(ServerVersion.DEFAULT, 1_000_000);
        var paced = new SimulatedNode(ServerVersion.DEFAULT, 1_000_000);
        String request = """
                {"type":"add_column","table":"users","column":"r","data_type":"float8","default_sql":"random()"%s}""";
        small.send(request.formatted(""));
        paced.send(request.formatted(",\"sleep_ms\":50"));
        // 1,000,000 rows in batches of Planner.BACKFILL_BATCH_SIZE: a pause between each two of them.
        long pauses = 1_000_000 / dev.zdm.pg.Planner.BACKFILL_BATCH_SIZE - 1;
        assertThat(paced.engine.now() - small.engine.now()).isCloseTo(pauses * 0.05, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(small.fails(request.formatted(",\"sleep_ms\":-1")).code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
    }

    @Test
    void asking_whether_the_table_has_rows_waits_behind_an_access_exclusive_holder_within_the_budget() {
        node.send("""
                {"type":"open_transaction","session":"ddl","table":"users","mode":"ACCESS EXCLUSIVE"}""");
        // NOT NULL without a default needs to know whether users has rows: that read is what waits.
        var refused = node.fails("""
                {"type":"add_column","table":"users","column":"flag","data_type":"boolean","nullable":false,
                 "max_lock_duration_ms":300}""");
        assertThat(refused.code()).isEqualTo(ErrorCode.ABORT);
        assertThat(refused.details()).containsEntry("waited_ms", 300L).containsEntry("rolled_back", true);
        node.send("""
                {"type":"close_transaction","session":"ddl"}""");
        // Free again, the same read finds rows: the precondition, not the lock, refuses it now.
        assertThat(node.fails("""
                {"type":"add_column","table":"users","column":"flag","data_type":"boolean","nullable":false}""").code())
                .isEqualTo(ErrorCode.PRECONDITION_FAILED);
    }

    @Test
    void a_default_naming_a_sequence_that_does_not_exist_is_20_and_a_serials_own_sequence_takes_its_name() {
        var missing = node.fails("""
                {"type":"add_column","table":"users","column":"n","data_type":"bigint","default_sql":"nextval('no_such_seq')"}""");
        assertThat(missing.code()).isEqualTo(ErrorCode.KEY_DOES_NOT_EXIST);
        assertThat(node.engine.model().table(USERS).columns()).doesNotContainKey(SqlName.of("n"));
        node.send("""
                {"type":"add_column","table":"users","column":"n","data_type":"bigserial"}""");
        // Made with the column, the sequence is a relation like any other: its name is taken, and a default may name it.
        assertThat(node.fails("""
                {"type":"create_index","table":"users","column":"email","index":"users_n_seq"}""").code())
                .isEqualTo(ErrorCode.KEY_ALREADY_EXISTS);
        var reply = node.send("""
                {"type":"add_column","table":"users","column":"m","data_type":"bigint","default_sql":"nextval('users_n_seq')"}""");
        assertThat(reply.get("type").asText()).isEqualTo("column_added");
    }
}
