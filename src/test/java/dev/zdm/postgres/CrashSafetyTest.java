package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's "a crash never costs the application's data" and "background work keeps each
 * operation's budget", in one engine on the shared server: a resent add_column resumes the column the
 * application already uses, another request for that name is told whose it is, and the background undo
 * keeps the request's budget. (CrashSafetyIT has the faults that need node processes or a server of their own.)
 */
class CrashSafetyTest extends OnEmbeddedPostgres {

    private static final String TOKEN = """
            {"type":"add_column","table":"%s","column":"tok","data_type":"uuid","default_sql":"gen_random_uuid()",
             "nullable":false,"sleep_ms":10}""";

    private static final String APP_TOKEN = "00000000-0000-0000-0000-00000000abcd";

    /** Waits until the running operation on {@code table} has committed {@code rows}, then kills its backend. */
    private static ObjectNode killAfter(String table, String request, long rows) throws Exception {
        CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(request));
        while (SharedPostgres.number("SELECT coalesce(max(c.rows_done), 0) FROM zdm.checkpoints c JOIN zdm.operations o"
                + " ON o.id = c.operation_id WHERE o.table_name = '" + table + "' AND o.state = 'running'") < rows) {
            Thread.sleep(5);
        }
        SharedPostgres.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'zdm-migration'");
        return first.get(30, TimeUnit.SECONDS);
    }

    private static Map<Long, String> tokens(String table, String where) throws Exception {
        Map<Long, String> tokens = new HashMap<>();
        try (Connection c = SharedPostgres.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, tok::text FROM " + table + " WHERE " + where)) {
            while (rs.next()) {
                tokens.put(rs.getLong(1), rs.getString(2));
            }
        }
        return tokens;
    }

    @Test
    void aResentAddColumnKeepsWhatTheApplicationWroteAndReadInTheHalfMadeColumn() throws Exception {
        SharedPostgres.table("tokens", 30_000);
        ObjectNode crashed = killAfter("tokens", TOKEN.formatted("tokens"), 5_000);
        long attnum = SharedPostgres.number("SELECT attnum FROM pg_attribute WHERE attrelid = 'tokens'::regclass"
                + " AND attname = 'tok'");
        // The column is live: the application writes tokens of its own, before and after the position,
        // and hands out tokens the backfill wrote.
        SharedPostgres.exec("UPDATE tokens SET tok = '" + APP_TOKEN + "' WHERE id IN (1, 2, 3, 29998, 29999, 30000)");
        Map<Long, String> handedOut = tokens("tokens", "id BETWEEN 100 AND 200");
        long filledBefore = SharedPostgres.number("SELECT count(*) FROM tokens WHERE tok IS NOT NULL");

        ObjectNode resent = node.send(TOKEN.formatted("tokens"));

        assertThat(crashed.get("code").asInt()).as(crashed.toString()).isEqualTo(13);
        assertThat(handedOut).hasSize(101).doesNotContainValue(null);
        assertThat(filledBefore).isBetween(5_000L, 29_999L);
        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("column_added");
        assertThat(tokens("tokens", "id IN (1, 2, 3, 29998, 29999, 30000)")).as("the application's own tokens")
                .hasSize(6).allSatisfy((id, tok) -> assertThat(tok).isEqualTo(APP_TOKEN));
        assertThat(tokens("tokens", "id BETWEEN 100 AND 200")).as("tokens already handed out").isEqualTo(handedOut);
        assertThat(SharedPostgres.number("SELECT attnum FROM pg_attribute WHERE attrelid = 'tokens'::regclass"
                + " AND attname = 'tok' AND NOT attisdropped")).as("the same column, never dropped").isEqualTo(attnum);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'tokens'::regclass"
                + " AND attisdropped")).isZero();
        assertThat(SharedPostgres.number("SELECT count(*) FROM tokens WHERE tok IS NULL")).isZero();
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'tokens'::regclass"
                + " AND attname = 'tok'")).isEqualTo("true");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'tokens'::regclass"
                + " AND contype = 'c'")).isZero();
    }

    @Test
    void anotherAddColumnForTheHalfMadeColumnIsToldItIsZdmsUnfinishedOperationAndHowToFinishIt() throws Exception {
        SharedPostgres.table("tokens_other", 30_000);
        killAfter("tokens_other", TOKEN.formatted("tokens_other"), 3_000);
        long id = SharedPostgres.number("SELECT id FROM zdm.operations WHERE table_name = 'tokens_other'");

        ObjectNode other = node.send("""
                {"type":"add_column","table":"tokens_other","column":"tok","data_type":"text"}""");

        assertThat(other.get("code").asInt()).as(other.toString()).isEqualTo(21);
        assertThat(other.get("text").asText()).contains("zdm's unfinished add_column")
                .contains("zdm.operations id " + id).contains("gen_random_uuid()")
                .contains("send that same request again").contains("DROP COLUMN \"tok\"");
        assertThat(SharedPostgres.number("SELECT count(*) FROM tokens_other WHERE tok IS NOT NULL"))
                .as("nothing was undone").isGreaterThanOrEqualTo(3_000);
        assertThat(node.send(TOKEN.formatted("tokens_other")).get("type").asText()).isEqualTo("column_added");
    }

    /**
     * An add_column stopped at a budget of 200 ms leaves its column undo_pending behind a report that
     * stays open; every background retry of the DROP waits at most those 200 ms, not the node's 2 s.
     */
    @Test
    void theBackgroundUndoRetriesUnderTheRequestsOwnBudget() throws Exception {
        SharedPostgres.table("undo_budget", 20_000);
        String add = """
                {"type":"add_column","table":"undo_budget","column":"token","data_type":"float8","default_sql":"random()",
                 "nullable":false,"sleep_ms":20,"max_lock_duration_ms":200}""";
        CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(add));
        long longestWaitMs = 0;
        int waitsSeen = 0;
        try (Connection report = SharedPostgres.connect(); Statement s = report.createStatement()) {
            while (SharedPostgres.number("SELECT coalesce(max(c.rows_done), 0) FROM zdm.checkpoints c JOIN zdm.operations o"
                    + " ON o.id = c.operation_id WHERE o.table_name = 'undo_budget' AND o.state = 'running'") < 2_000) {
                Thread.sleep(5);
            }
            report.setAutoCommit(false);
            s.execute("LOCK TABLE undo_budget IN SHARE MODE");
            ObjectNode stopped = first.get(30, TimeUnit.SECONDS);
            assertThat(stopped.get("code").asInt()).as(stopped.toString()).isEqualTo(14);
            long until = System.currentTimeMillis() + 6_000;
            try (Connection watcher = SharedPostgres.connect(); Statement w = watcher.createStatement()) {
                while (System.currentTimeMillis() < until) {
                    try (ResultSet rs = w.executeQuery("SELECT (extract(epoch FROM clock_timestamp() - query_start)"
                            + " * 1000)::bigint FROM pg_stat_activity WHERE application_name = 'zdm-janitor'"
                            + " AND wait_event_type = 'Lock'")) {
                        if (rs.next()) {
                            waitsSeen++;
                            longestWaitMs = Math.max(longestWaitMs, rs.getLong(1));
                        }
                    }
                    Thread.sleep(10);
                }
            }
            report.rollback();
        }
        System.err.println("CrashSafetyTest: background undo at max_lock_duration_ms 200: longest lock wait "
                + longestWaitMs + " ms over " + waitsSeen + " samples");
        assertThat(waitsSeen).as("the janitor retried while the report was open").isPositive();
        assertThat(longestWaitMs).as("the longest wait of a background retry, in ms").isLessThan(1_000);
        assertThat(SharedPostgres.number("SELECT max_lock_duration_ms FROM zdm.operations"
                + " WHERE table_name = 'undo_budget'")).isEqualTo(200);
    }
}
