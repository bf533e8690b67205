package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

class MigrateDataHandlerTest {

    private final SimulatedNode node = new SimulatedNode();

    @Test
    void the_seed_example() {
        var reply = node.send("""
                {"type":"migrate_data","table":"users","batch_size":1000,"total_rows":10000}""");
        assertThat(reply.toString()).isEqualTo("""
                {"type":"data_migrated","in_reply_to":1,"total_rows":10000,"batches":10,"table_locked":false}""");
    }

    @Test
    void a_partial_last_batch_counts_and_rows_are_capped_by_the_table() {
        var small = new SimulatedNode(dev.zdm.pg.ServerVersion.DEFAULT, 2_500);
        var reply = small.send("""
                {"type":"migrate_data","table":"users","batch_size":1000,"total_rows":10000,"set":{"name":"upper(name)"}}""");
        assertThat(reply.get("total_rows").asLong()).isEqualTo(2_500);
        assertThat(reply.get("batches").asInt()).isEqualTo(3);
    }

    @Test
    void sleeping_between_batches_lengthens_the_job_on_the_simulated_clock() {
        node.send("""
                {"type":"migrate_data","table":"users","batch_size":1000,"total_rows":10000}""");
        double plain = node.engine.now();
        var other = new SimulatedNode();
        other.send("""
                {"type":"migrate_data","table":"users","batch_size":1000,"total_rows":10000,"sleep_ms":100}""");
        assertThat(other.engine.now() - plain).isCloseTo(0.9, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void a_share_lock_stops_it_a_reader_does_not() {
        node.send("""
                {"type":"open_transaction","session":"reader","table":"users","mode":"ACCESS SHARE"}""");
        assertThat(node.send("""
                {"type":"migrate_data","table":"users","batch_size":100,"total_rows":1000}""").get("type").asText())
                .isEqualTo("data_migrated");
        node.send("""
                {"type":"open_transaction","session":"report","table":"users","mode":"SHARE"}""");
        assertThat(node.fails("""
                {"type":"migrate_data","table":"users","batch_size":100,"total_rows":2000,"max_lock_duration_ms":100}""")
                .code()).isEqualTo(ErrorCode.ABORT);
    }

    @Test
    void bad_fields_are_malformed_and_unknown_columns_missing() {
        assertThat(node.fails("""
                {"type":"migrate_data","table":"users","batch_size":-1}""").code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(node.fails("""
                {"type":"migrate_data","table":"users","batch_size":10,"set":{"name":1}}""").code())
                .isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(node.fails("""
                {"type":"migrate_data","table":"users","batch_size":10,"where":"1=1; delete from users"}""").code())
                .isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(node.fails("""
                {"type":"migrate_data","table":"users","batch_size":10,"set":{"phone":"'x'"}}""").code())
                .isEqualTo(ErrorCode.KEY_DOES_NOT_EXIST);
    }
}
