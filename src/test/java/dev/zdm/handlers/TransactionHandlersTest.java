package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

class TransactionHandlersTest {

    private final SimulatedNode node = new SimulatedNode();

    @Test
    void open_and_close_answer_with_the_session() {
        assertThat(node.send("""
                {"type":"open_transaction","session":"app","table":"users","mode":"RowExclusiveLock"}""").toString())
                .isEqualTo("{\"type\":\"transaction_opened\",\"in_reply_to\":1,\"session\":\"app\"}");
        assertThat(node.send("""
                {"type":"close_transaction","session":"app"}""").toString())
                .isEqualTo("{\"type\":\"transaction_closed\",\"in_reply_to\":2,\"session\":\"app\"}");
    }

    @Test
    void a_closed_transaction_no_longer_blocks() {
        node.send("""
                {"type":"open_transaction","session":"app","table":"users","mode":"ACCESS SHARE"}""");
        node.send("""
                {"type":"close_transaction","session":"app"}""");
        assertThat(node.send("""
                {"type":"add_column","table":"users","column":"c","max_lock_duration_ms":1}""").get("type").asText())
                .isEqualTo("column_added");
    }

    @Test
    void errors() {
        node.send("""
                {"type":"open_transaction","session":"app","table":"users","mode":"ACCESS EXCLUSIVE"}""");
        assertThat(node.fails("""
                {"type":"open_transaction","session":"app","table":"users"}""").code()).isEqualTo(ErrorCode.KEY_ALREADY_EXISTS);
        assertThat(node.fails("""
                {"type":"open_transaction","session":"other","table":"users","mode":"ACCESS SHARE"}""").code())
                .isEqualTo(ErrorCode.ABORT);
        assertThat(node.fails("""
                {"type":"open_transaction","session":"x","table":"nope"}""").code()).isEqualTo(ErrorCode.KEY_DOES_NOT_EXIST);
        assertThat(node.fails("""
                {"type":"open_transaction","session":"bad session!","table":"users"}""").code())
                .isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(node.fails("""
                {"type":"close_transaction","session":"ghost"}""").code()).isEqualTo(ErrorCode.KEY_DOES_NOT_EXIST);
    }
}
