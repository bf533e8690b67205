package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's crashes through the jar, on a server of this class's own: a node killed with SIGKILL in
 * add_column's backfill while the application uses the column, a node stopped with SIGTERM (a deploy)
 * mid-job, and an INVALID index whose node was killed, cleaned by another node.
 */
class CrashSafetyIT extends OnRestartableServer {

    @Test
    void aNodeKilledInAddColumnsBackfillIsResumedByTheSameRequestAndTheApplicationsTokensStay() throws Exception {
        server.table("kill_tokens", 30_000);
        String add = """
                {"type":"add_column","table":"kill_tokens","column":"tok","data_type":"uuid",
                 "default_sql":"gen_random_uuid()","nullable":false,"sleep_ms":10}""";
        try (NodeProcess victim = readyNode()) {
            victim.send(add);
            awaitRows("kill_tokens", 5_000);
            victim.kill9();
        }
        long attnum = server.number("SELECT attnum FROM pg_attribute WHERE attrelid = 'kill_tokens'::regclass"
                + " AND attname = 'tok'");
        server.exec("UPDATE kill_tokens SET tok = '00000000-0000-0000-0000-00000000abcd' WHERE id IN (1, 30000)");
        long handedOut = server.number("SELECT count(*) FROM kill_tokens WHERE tok IS NOT NULL");
        server.exec("CREATE TABLE kill_tokens_seen AS SELECT id, tok FROM kill_tokens WHERE tok IS NOT NULL");

        ObjectNode resent;
        try (NodeProcess survivor = node()) {
            survivor.send(add);
            resent = survivor.reply();
        }

        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("column_added");
        assertThat(handedOut).isBetween(5_000L, 29_999L);
        assertThat(server.number("SELECT count(*) FROM kill_tokens k JOIN kill_tokens_seen s USING (id)"
                + " WHERE k.tok = s.tok")).as("every token the application had, kept").isEqualTo(handedOut);
        assertThat(server.number("SELECT attnum FROM pg_attribute WHERE attrelid = 'kill_tokens'::regclass"
                + " AND attname = 'tok' AND NOT attisdropped")).isEqualTo(attnum);
        assertThat(server.number("SELECT count(*) FROM kill_tokens WHERE tok IS NULL")).isZero();
        assertThat(server.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'kill_tokens'::regclass"
                + " AND attname = 'tok' AND attnotnull")).isEqualTo(1);
    }

    @Test
    void sigtermMidJobKeepsItsPositionAnswers13ExitsAndTheResendAppliesEveryRowOnce() throws Exception {
        server.table("term_job", 20_000);
        String job = """
                {"type":"migrate_data","table":"term_job","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":15}""";
        ObjectNode interrupted;
        int exit;
        try (NodeProcess node = readyNode()) {
            node.send(job);
            awaitRows("term_job", 3_000);
            long signalled = System.nanoTime();
            node.terminate();
            interrupted = node.reply();
            long replyMs = (System.nanoTime() - signalled) / 1_000_000;
            exit = node.exitCode(15_000);
            System.err.println("CrashSafetyIT: SIGTERM mid-job: reply after " + replyMs + " ms, exit " + exit + " after "
                    + (System.nanoTime() - signalled) / 1_000_000 + " ms: " + interrupted);
        }
        long doneAtStop = server.number("SELECT count(*) FROM term_job WHERE n = 1");
        String state = server.text("SELECT state || ': ' || detail FROM zdm.operations WHERE table_name = 'term_job'");

        ObjectNode resent;
        try (NodeProcess node = node()) {
            node.send(job);
            resent = node.reply();
        }

        assertThat(interrupted.get("code").asInt()).as(interrupted.toString()).isEqualTo(13);
        assertThat(interrupted.get("text").asText()).contains("interrupted, send it again to resume");
        assertThat(interrupted.get("total_rows").asLong()).as(interrupted.toString()).isEqualTo(doneAtStop);
        assertThat(interrupted.get("batches").asInt()).isPositive();
        assertThat(doneAtStop).isBetween(3_000L, 19_999L);
        assertThat(exit).as("the JVM's exit on SIGTERM").isEqualTo(143);
        assertThat(state).startsWith("failed: ").contains("interrupted");
        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("data_migrated");
        assertThat(resent.get("total_rows").asLong()).isEqualTo(20_000);
        assertThat(server.number("SELECT count(*) FROM term_job WHERE n <> 1")).isZero();
    }

    @Test
    void sigtermInAddColumnsBackfillKeepsTheColumnAndTheResendFinishesIt() throws Exception {
        server.table("term_add", 30_000);
        String add = """
                {"type":"add_column","table":"term_add","column":"tok","data_type":"uuid",
                 "default_sql":"gen_random_uuid()","nullable":false,"sleep_ms":10}""";
        ObjectNode interrupted;
        try (NodeProcess node = readyNode()) {
            node.send(add);
            awaitRows("term_add", 3_000);
            node.terminate();
            interrupted = node.reply();
            node.exitCode(15_000);
        }
        long filled = server.number("SELECT count(*) FROM term_add WHERE tok IS NOT NULL");
        server.exec("CREATE TABLE term_add_seen AS SELECT id, tok FROM term_add WHERE tok IS NOT NULL");

        ObjectNode resent;
        try (NodeProcess node = node()) {
            node.send(add);
            resent = node.reply();
        }

        assertThat(interrupted.get("code").asInt()).as(interrupted.toString()).isEqualTo(13);
        assertThat(interrupted.get("text").asText()).contains("interrupted, send it again to resume");
        assertThat(filled).isBetween(3_000L, 29_999L);
        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("column_added");
        assertThat(server.number("SELECT count(*) FROM term_add a JOIN term_add_seen s USING (id) WHERE a.tok = s.tok"))
                .isEqualTo(filled);
        assertThat(server.number("SELECT count(*) FROM term_add WHERE tok IS NULL")).isZero();
    }

    /**
     * A VALIDATE that would scan for a minute: the SIGTERM cancels it, the reply is 13 and the node exits
     * 143 within the bound the other stops use, the NOT VALID constraint stays, and the resend validates.
     */
    @Test
    void sigtermDuringALongValidateCancelsItAnswers13AndTheResendValidates() throws Exception {
        server.table("term_check", 20_000);
        // 3 ms a row: 60 s of VALIDATE. Replaced by a quick body for the resend (the constraint calls it by OID).
        server.exec("CREATE FUNCTION term_check_ok(bigint) RETURNS boolean IMMUTABLE LANGUAGE plpgsql"
                + " AS $f$ BEGIN PERFORM pg_sleep(0.003); RETURN $1 > 0; END $f$");
        String add = """
                {"type":"add_constraint","table":"term_check","constraint":"term_check_ok","constraint_type":"check",
                 "check":"term_check_ok(id)"}""";
        ObjectNode interrupted;
        int exit;
        String log;
        try (NodeProcess node = readyNode()) {
            node.send(add);
            while (server.number("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                    + " AND query ILIKE '%VALIDATE CONSTRAINT%term_check_ok%' AND pid <> pg_backend_pid()") < 1) {
                Thread.sleep(5);
            }
            node.terminate();
            interrupted = node.reply();
            exit = node.exitCode(15_000);
            log = node.stderr();
        }
        String state = server.text("SELECT state || ': ' || detail FROM zdm.operations WHERE table_name = 'term_check'");
        long notValid = server.number("SELECT count(*) FROM pg_constraint WHERE conname = 'term_check_ok'"
                + " AND NOT convalidated");
        server.exec("CREATE OR REPLACE FUNCTION term_check_ok(bigint) RETURNS boolean IMMUTABLE LANGUAGE plpgsql"
                + " AS $f$ BEGIN RETURN $1 > 0; END $f$");
        ObjectNode resent;
        try (NodeProcess node = node()) {
            node.send(add);
            resent = node.reply();
        }

        assertThat(interrupted.get("code").asInt()).as(interrupted.toString()).isEqualTo(13);
        assertThat(interrupted.get("text").asText()).contains("interrupted, send it again to resume").contains("cancelled");
        assertThat(exit).as("the JVM's exit on SIGTERM").isEqualTo(143);
        assertThat(log).contains("SIGTERM: cancelling the statement");
        assertThat(state).startsWith("failed: ").contains("interrupted");
        assertThat(notValid).as("the NOT VALID constraint kept").isEqualTo(1);
        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("constraint_added");
        assertThat(resent.get("validated").asBoolean()).as(resent.toString()).isTrue();
        assertThat(server.number("SELECT count(*) FROM pg_constraint WHERE conname = 'term_check_ok' AND convalidated"))
                .isEqualTo(1);
    }

    /** A create_index on {@code table} whose node is killed while its build waits: its INVALID index stays. */
    private static void leaveAnOrphanIndex(String table) throws Exception {
        String build = """
                {"type":"create_index","table":"%s","column":"email","index":"%s_email","max_lock_duration_ms":60000}"""
                .formatted(table, table);
        try (Connection writer = server.database().connect("zdm-test-writer"); Statement s = writer.createStatement()) {
            writer.setAutoCommit(false);
            s.execute("LOCK TABLE " + table + " IN ROW EXCLUSIVE MODE");
            try (NodeProcess victim = readyNode()) {
                victim.send(build);
                // The build has made its (INVALID) index, the ledger has its OID, and it waits for the
                // writer: now its node dies.
                while (invalidIndexes(table) < 1 || server.number("SELECT count(*) FROM zdm.objects m"
                        + " JOIN zdm.operations o ON o.id = m.operation_id WHERE o.table_name = '" + table + "'"
                        + " AND m.kind = 'index'") < 1) {
                    Thread.sleep(5);
                }
                victim.kill9();
                // A backend waiting for a lock does not notice its client is gone (it would finish the
                // build): it ends as it does in a server restart.
                server.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE query LIKE 'CREATE INDEX CONCURRENTLY%'");
            }
            writer.rollback();
        }
    }

    private static long invalidIndexes(String table) {
        return server.number("SELECT count(*) FROM pg_index WHERE indrelid = '" + table + "'::regclass AND NOT indisvalid");
    }

    private static void awaitNoInvalidIndex(String table) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (invalidIndexes(table) > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
    }

    @Test
    void anInvalidIndexWhoseNodeWasKilledIsDroppedAfterAnotherNodesNextRequestOfAnyKind() throws Exception {
        server.table("orphan_index", 5_000);
        server.table("orphan_other", 10);
        try (NodeProcess other = readyNode()) {
            leaveAnOrphanIndex("orphan_index");
            Thread.sleep(500);
            assertThat(invalidIndexes("orphan_index")).as("left by the dead build").isEqualTo(1);

            other.send("""
                    {"type":"migrate_data","table":"orphan_other","batch_size":100,"set":{"n":"n + 1"}}""");
            ObjectNode unrelated = other.reply();
            assertThat(unrelated.get("type").asText()).as(unrelated.toString()).isEqualTo("data_migrated");
            awaitNoInvalidIndex("orphan_index");
        }
        assertThat(invalidIndexes("orphan_index")).as("the INVALID index of a dead build").isZero();
        assertThat(server.text("SELECT state FROM zdm.operations WHERE table_name = 'orphan_index'")).isEqualTo("failed");
    }

    @Test
    void anInvalidIndexWhoseNodeWasKilledIsDroppedWhenANodeStarts() throws Exception {
        server.table("orphan_start", 5_000);
        leaveAnOrphanIndex("orphan_start");
        assertThat(invalidIndexes("orphan_start")).as("left by the dead build").isEqualTo(1);

        try (NodeProcess next = readyNode()) {
            awaitNoInvalidIndex("orphan_start");
        }

        assertThat(invalidIndexes("orphan_start")).as("the INVALID index of a dead build").isZero();
    }
}
