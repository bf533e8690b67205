package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** Lock-aware aborts against real held locks, and what a failed concurrent build leaves (nothing). */
class LockAwarenessTest extends OnEmbeddedPostgres {

    @Test
    void heldAccessShareMakesAddColumnAbortAfterItsBudget() {
        SharedPostgres.table("la_users", 1_000);
        assertThat(node.send("""
                {"type":"open_transaction","session":"reader","table":"la_users","mode":"ACCESS SHARE"}""")
                .get("type").asText()).isEqualTo("transaction_opened");

        ObjectNode reply = node.send("""
                {"type":"add_column","table":"la_users","column":"status","default":"active","nullable":false,
                 "max_lock_duration_ms":500}""");

        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
        assertThat(reply.get("waited_ms").asLong()).isBetween(450L, 1_500L);
        assertThat(reply.get("blocked_by")).extracting(Object::toString).asString().contains("reader");
        assertThat(reply.get("rolled_back").asBoolean()).isTrue();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'la_users'::regclass"
                + " AND attname = 'status' AND NOT attisdropped")).isZero();

        assertThat(node.send("""
                {"type":"close_transaction","session":"reader"}""").get("type").asText()).isEqualTo("transaction_closed");
        assertThat(node.send("""
                {"type":"add_column","table":"la_users","column":"status","default":"active","nullable":false,
                 "max_lock_duration_ms":500}""").get("type").asText()).isEqualTo("column_added");
    }

    @Test
    void failedUniqueConcurrentBuildLeavesNoInvalidIndex() {
        SharedPostgres.table("la_dupes", 2_000);
        SharedPostgres.exec("UPDATE la_dupes SET email = 'same@example.com' WHERE id IN (10, 20)");

        ObjectNode reply = node.send("""
                {"type":"create_index","table":"la_dupes","column":"email","unique":true,"index":"la_dupes_email"}""");

        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(22);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indrelid = 'la_dupes'::regclass"
                + " AND NOT indisvalid")).isZero();
        assertThat(SharedPostgres.text("SELECT to_regclass('la_dupes_email')")).isNull();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indrelid = 'la_dupes'::regclass"))
                .isEqualTo(1); // the primary key only
    }

    @Test
    void concurrentBuildBehindAnOpenWriterAbortsAndLeavesNoInvalidIndex() {
        SharedPostgres.table("la_writer", 1_000);
        node.send("""
                {"type":"open_transaction","session":"writer","table":"la_writer","mode":"ROW EXCLUSIVE"}""");
        try {
            ObjectNode reply = node.send("""
                    {"type":"create_index","table":"la_writer","column":"name","index":"la_writer_name","max_lock_duration_ms":300}""");

            assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("blocked_by")).extracting(Object::toString).asString().contains("writer");
            assertThat(reply.get("attempts").asInt()).isPositive();
        } finally {
            node.send("""
                    {"type":"close_transaction","session":"writer"}""");
        }
        // The drop of the INVALID index waits for the writer like the build did; once it has gone, so has the index.
        long deadline = System.nanoTime() + 10_000_000_000L;
        long invalid;
        do {
            invalid = SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indrelid = 'la_writer'::regclass"
                    + " AND NOT indisvalid");
        } while (invalid > 0 && System.nanoTime() < deadline && sleep(20));
        assertThat(invalid).isZero();
        assertThat(node.send("""
                {"type":"create_index","table":"la_writer","column":"name","index":"la_writer_name"}""").get("type").asText())
                .isEqualTo("index_created");
    }

    private static boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    @Test
    void anIdleOpenTransactionDoesNotStopAConcurrentBuild() {
        SharedPostgres.table("la_idle", 1_000);
        node.send("""
                {"type":"open_transaction","session":"idle_tx","table":"la_idle"}""");
        try {
            ObjectNode reply = node.send("""
                    {"type":"create_index","table":"la_idle","column":"email","index":"la_idle_email","max_lock_duration_ms":300}""");

            assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_created");
        } finally {
            node.send("""
                    {"type":"close_transaction","session":"idle_tx"}""");
        }
    }

    @Test
    void sessionErrors() {
        SharedPostgres.table("la_sessions", 10);
        assertThat(node.send("""
                {"type":"close_transaction","session":"ghost"}""").get("code").asInt()).isEqualTo(20);
        node.send("""
                {"type":"open_transaction","session":"holder","table":"la_sessions","mode":"ACCESS EXCLUSIVE"}""");
        assertThat(node.send("""
                {"type":"open_transaction","session":"second","table":"la_sessions","mode":"ACCESS SHARE"}""")
                .get("code").asInt()).isEqualTo(14);
        node.send("""
                {"type":"close_transaction","session":"holder"}""");
        assertThat(node.send("""
                {"type":"open_transaction","session":"idle","table":"la_sessions","duration_seconds":0.2}""")
                .get("type").asText()).isEqualTo("transaction_opened");
        assertThat(node.send("""
                {"type":"open_transaction","session":"x","table":"no_such_table"}""").get("code").asInt()).isEqualTo(20);
    }
}
