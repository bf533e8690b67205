package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An add_column whose NOT NULL steps lose their lock race to a reader that came after the backfill
 * started: the filled column is kept, and the same request sent again goes on at the NOT NULL steps
 * without filling a row again (hostile report F3).
 */
class KeptFillTest extends OnEmbeddedPostgres {

    private static final String ADD = """
            {"type":"add_column","table":"kept_fill","column":"tok","data_type":"uuid","default_sql":"gen_random_uuid()",
             "nullable":false,"sleep_ms":10,"max_lock_duration_ms":300}""";

    private static final String TOKENS = "SELECT md5(string_agg(tok::text, ',' ORDER BY id)) FROM kept_fill";

    private static final String BATCHES = "SELECT coalesce(sum(c.batches_done), 0) FROM zdm.checkpoints c"
            + " JOIN zdm.operations o ON o.id = c.operation_id WHERE o.table_name = 'kept_fill'";

    @Test
    void aReaderAfterTheBackfillStartedCostsTheNotNullStepsOnlyAndTheResendFillsNothingAgain() throws Exception {
        SharedPostgres.table("kept_fill", 20_000);
        CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(ADD));
        ObjectNode stopped;
        try (Connection reader = SharedPostgres.connect(); Statement s = reader.createStatement()) {
            while (SharedPostgres.number("SELECT coalesce(max(c.rows_done), 0) FROM zdm.checkpoints c JOIN"
                    + " zdm.operations o ON o.id = c.operation_id WHERE o.table_name = 'kept_fill'"
                    + " AND o.state = 'running'") < 2_000) {
                Thread.sleep(5);
            }
            // A plain read in an open transaction: ACCESS SHARE, which the batches do not mind and every
            // ALTER TABLE after them does.
            reader.setAutoCommit(false);
            s.execute("SELECT count(*) FROM kept_fill WHERE id = 1");
            stopped = first.get(60, TimeUnit.SECONDS);
            reader.rollback();
        }
        long attnum = SharedPostgres.number("SELECT attnum FROM pg_attribute WHERE attrelid = 'kept_fill'::regclass"
                + " AND attname = 'tok' AND NOT attisdropped");
        String tokens = SharedPostgres.text(TOKENS);
        long batches = SharedPostgres.number(BATCHES);

        assertThat(stopped.get("code").asInt()).as(stopped.toString()).isEqualTo(14);
        assertThat(stopped.get("text").asText()).contains("column tok").contains("and its backfill are kept")
                .contains("continues at step 3");
        assertThat(stopped.get("rolled_back").asBoolean()).isFalse();
        assertThat(SharedPostgres.number("SELECT count(*) FROM kept_fill WHERE tok IS NULL")).isZero();
        assertThat(SharedPostgres.text("SELECT state || ' ' || steps_done FROM zdm.operations"
                + " WHERE table_name = 'kept_fill'")).isEqualTo("failed 2");
        assertThat(SharedPostgres.text("SELECT detail FROM zdm.operations WHERE table_name = 'kept_fill'"))
                .contains("and its backfill are kept");
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'kept_fill'::regclass"
                + " AND attname = 'tok'")).isEqualTo("false");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'kept_fill'::regclass"
                + " AND contype = 'c'")).as("what the NOT NULL steps made is undone").isZero();

        ObjectNode resent = node.send(ADD);

        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("column_added");
        assertThat(SharedPostgres.text(TOKENS)).as("no row filled again").isEqualTo(tokens);
        assertThat(SharedPostgres.number(BATCHES)).as("no batch ran again").isEqualTo(batches);
        assertThat(SharedPostgres.number("SELECT attnum FROM pg_attribute WHERE attrelid = 'kept_fill'::regclass"
                + " AND attname = 'tok' AND NOT attisdropped")).as("the same column").isEqualTo(attnum);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'kept_fill'::regclass"
                + " AND attisdropped")).isZero();
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'kept_fill'::regclass"
                + " AND attname = 'tok'")).isEqualTo("true");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'kept_fill'::regclass"
                + " AND contype = 'c'")).isZero();
        assertThat(SharedPostgres.text("SELECT state FROM zdm.operations WHERE table_name = 'kept_fill'"))
                .isEqualTo("done");
    }

    private static final String ADD_NULLED = ADD.replace("kept_fill", "kept_nulled");

    /**
     * Hostile report F1: after the 14 the application uses the kept column, writes a value and one
     * explicit NULL. The resend's VALIDATE meets that NULL: it must not drop the column (with the
     * backfill and the application's value) as "earlier steps undone".
     */
    @Test
    void aNullWrittenAfterTheKeptFillFailsTheResendButKeepsTheColumnAndTheApplicationsValues() throws Exception {
        SharedPostgres.table("kept_nulled", 20_000);
        CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(ADD_NULLED));
        ObjectNode stopped;
        try (Connection reader = SharedPostgres.connect(); Statement s = reader.createStatement()) {
            while (SharedPostgres.number("SELECT coalesce(max(c.rows_done), 0) FROM zdm.checkpoints c JOIN"
                    + " zdm.operations o ON o.id = c.operation_id WHERE o.table_name = 'kept_nulled'"
                    + " AND o.state = 'running'") < 2_000) {
                Thread.sleep(5);
            }
            reader.setAutoCommit(false);
            s.execute("SELECT count(*) FROM kept_nulled WHERE id = 1");
            stopped = first.get(60, TimeUnit.SECONDS);
            reader.rollback();
        }
        assertThat(stopped.get("code").asInt()).as(stopped.toString()).isEqualTo(14);
        SharedPostgres.exec("UPDATE kept_nulled SET tok = '11111111-1111-1111-1111-111111111111' WHERE id = 7",
                "INSERT INTO kept_nulled (id, email, tok) VALUES (100001, 'app@example.com', NULL)");
        long filled = SharedPostgres.number("SELECT count(*) FROM kept_nulled WHERE tok IS NOT NULL");

        ObjectNode resent = node.send(ADD_NULLED);

        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'kept_nulled'::regclass"
                + " AND attname = 'tok' AND NOT attisdropped")).as("the kept column is still there: " + resent).isOne();
        assertThat(SharedPostgres.text("SELECT tok::text FROM kept_nulled WHERE id = 7"))
                .isEqualTo("11111111-1111-1111-1111-111111111111");
        if (resent.get("type").asText().equals("column_added")) {
            assertThat(SharedPostgres.number("SELECT count(*) FROM kept_nulled WHERE tok IS NULL")).isZero();
            return;
        }
        assertThat(resent.get("code").asInt()).as(resent.toString()).isEqualTo(22);
        assertThat(resent.get("text").asText()).contains("some row has tok NULL").contains("column tok")
                .contains("kept").contains("continues at step 3").doesNotContain("earlier steps undone");
        assertThat(SharedPostgres.number("SELECT count(*) FROM kept_nulled WHERE tok IS NOT NULL"))
                .as("every filled value kept").isEqualTo(filled);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'kept_nulled'::regclass"
                + " AND contype = 'c'")).as("the check this run added is undone").isZero();
        assertThat(SharedPostgres.text("SELECT state || ' ' || steps_done FROM zdm.operations"
                + " WHERE table_name = 'kept_nulled'")).isEqualTo("failed 2");

        // The NULL set, the same request finishes on the column it kept.
        SharedPostgres.exec("UPDATE kept_nulled SET tok = gen_random_uuid() WHERE tok IS NULL");
        ObjectNode finished = node.send(ADD_NULLED);

        assertThat(finished.get("type").asText()).as(finished.toString()).isEqualTo("column_added");
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'kept_nulled'::regclass"
                + " AND attname = 'tok'")).isEqualTo("true");
        assertThat(SharedPostgres.text("SELECT tok::text FROM kept_nulled WHERE id = 7"))
                .isEqualTo("11111111-1111-1111-1111-111111111111");
    }
}
