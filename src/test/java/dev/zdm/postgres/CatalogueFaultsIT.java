package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 14's faults: the node killed with SIGKILL between a constraint's NOT VALID and its VALIDATE,
 * and between a key's index and its USING INDEX; the same request sent again finishes.
 */
class CatalogueFaultsIT extends OnRestartableServer {

    /** Waits until {@code table} has {@code waiters} lock requests not granted. */
    private static void awaitWaiters(String table, int waiters) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (server.number("SELECT count(*) FROM pg_locks WHERE relation = '" + table + "'::regclass AND NOT granted")
                < waiters) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + waiters + " waiter(s) on " + table);
            }
            Thread.sleep(5);
        }
    }

    private static ObjectNode resend(String request) throws Exception {
        try (PostgresEngine engine = PostgresEngine.connect(server.database(), 3)) {
            return new Node(engine, Duration.ofSeconds(5)).send(request);
        }
    }

    /**
     * The ADD waits behind a writer; a SHARE UPDATE EXCLUSIVE request queues behind the ADD and is
     * granted when it commits, so the VALIDATE waits: the node is killed there, with the constraint
     * committed NOT VALID and the ledger still saying running.
     */
    @Test
    void killedBetweenNotValidAndValidateTheResendFinishes() throws Exception {
        server.table("kill_check", 5_000);
        String add = """
                {"type":"add_constraint","table":"kill_check","constraint":"kill_check_email_at","constraint_type":"check",
                 "check":"email LIKE '%@%'","max_lock_duration_ms":60000}""";
        try (Connection writer = server.database().connect("zdm-test-writer");
             Connection validator = server.database().connect("zdm-test-validator");
             NodeProcess node = node()) {
            writer.setAutoCommit(false);
            writer.createStatement().execute("LOCK TABLE kill_check IN ROW EXCLUSIVE MODE");
            node.send(add);
            awaitWaiters("kill_check", 1);
            CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> {
                try {
                    validator.setAutoCommit(false);
                    validator.createStatement().execute("LOCK TABLE kill_check IN SHARE UPDATE EXCLUSIVE MODE");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitWaiters("kill_check", 2);
            writer.rollback();
            holder.get(20, TimeUnit.SECONDS);
            awaitWaiters("kill_check", 1);
            assertThat(server.number("SELECT count(*) FROM pg_constraint WHERE conname = 'kill_check_email_at'"
                    + " AND NOT convalidated")).as("committed NOT VALID").isOne();
            node.kill9();
            validator.rollback();
        }
        long oid = server.number("SELECT oid FROM pg_constraint WHERE conname = 'kill_check_email_at'");

        ObjectNode resent = resend(add);

        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("constraint_added");
        assertThat(resent.get("validated").asBoolean()).isTrue();
        // The constraint the killed run committed is validated, not dropped and added again.
        assertThat(server.number("SELECT count(*) FROM pg_constraint WHERE conname = 'kill_check_email_at'"
                + " AND convalidated AND oid = " + oid)).isOne();
        assertThat(server.number("SELECT count(*) FROM pg_constraint WHERE conname = 'kill_check_email_at'")).isOne();
        assertThat(server.number("SELECT count(*) FROM zdm.operations WHERE kind = 'add_constraint'"
                + " AND table_name = 'kill_check' AND state = 'done'")).isOne();
    }

    /**
     * set_not_null killed the same way between its NOT VALID step and its VALIDATE: from 18 the NOT
     * NULL constraint itself is committed NOT VALID (attnotnull already set), and the resend validates
     * it rather than adding another or trusting it unvalidated.
     */
    @Test
    void setNotNullKilledBetweenNotValidAndValidateTheResendValidates() throws Exception {
        server.table("kill_nn", 5_000);
        String set = """
                {"type":"set_not_null","table":"kill_nn","column":"email","max_lock_duration_ms":60000}""";
        try (Connection writer = server.database().connect("zdm-test-writer");
             Connection validator = server.database().connect("zdm-test-validator");
             NodeProcess node = node()) {
            writer.setAutoCommit(false);
            writer.createStatement().execute("LOCK TABLE kill_nn IN ROW EXCLUSIVE MODE");
            node.send(set);
            awaitWaiters("kill_nn", 1);
            CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> {
                try {
                    validator.setAutoCommit(false);
                    validator.createStatement().execute("LOCK TABLE kill_nn IN SHARE UPDATE EXCLUSIVE MODE");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitWaiters("kill_nn", 2);
            writer.rollback();
            holder.get(20, TimeUnit.SECONDS);
            awaitWaiters("kill_nn", 1);
            assertThat(server.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'kill_nn'::regclass"
                    + " AND NOT convalidated")).as("committed NOT VALID").isOne();
            node.kill9();
            validator.rollback();
        }

        ObjectNode resent = resend(set);

        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("not_null_set");
        assertThat(server.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'kill_nn'::regclass"
                + " AND NOT convalidated")).isZero();
        assertThat(server.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'kill_nn'::regclass"
                + " AND attname = 'email' AND attnotnull")).isOne();
        if (server.number("SELECT current_setting('server_version_num')::int") >= 180000) {
            assertThat(server.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'kill_nn'::regclass"
                    + " AND contype = 'n' AND conname = 'kill_nn_email_not_null' AND convalidated")).isOne();
            assertThat(server.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'kill_nn'::regclass"
                    + " AND conkey = ARRAY[2::int2]")).as("one constraint on email").isOne();
        }
    }

    /**
     * The unique index is built while a READ COMMITTED reader holds ACCESS SHARE (no snapshot between
     * its statements: the build does not wait for it); USING INDEX then waits for the reader, and the
     * node is killed there, with the valid index and no constraint. The resend attaches that index.
     */
    @Test
    void killedBetweenTheIndexAndUsingIndexTheResendAttachesIt() throws Exception {
        server.table("kill_key", 5_000);
        String add = """
                {"type":"add_constraint","table":"kill_key","constraint":"kill_key_email_key","constraint_type":"unique",
                 "columns":["email"],"max_lock_duration_ms":60000}""";
        try (Connection reader = server.database().connect("zdm-test-reader");
             NodeProcess node = node()) {
            reader.setAutoCommit(false);
            try (Statement s = reader.createStatement()) {
                s.execute("LOCK TABLE kill_key IN ACCESS SHARE MODE");
            }
            node.send(add);
            awaitWaiters("kill_key", 1);
            assertThat(server.number("SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('kill_key_email_key')"
                    + " AND indisvalid")).as("the index is built and valid").isOne();
            node.kill9();
            reader.rollback();
        }
        long oid = server.number("SELECT 'kill_key_email_key'::regclass::oid");

        ObjectNode resent = resend(add);

        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("constraint_added");
        assertThat(server.number("SELECT conindid FROM pg_constraint WHERE conname = 'kill_key_email_key'"
                + " AND contype = 'u'")).isEqualTo(oid);
    }
}
