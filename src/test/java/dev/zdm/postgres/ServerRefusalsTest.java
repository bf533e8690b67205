package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engines;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the server refuses, said as it is (issue 12, item 11): a missing privilege is a precondition
 * (22) naming what is missing, a read-only database or a missing one fails the start by name, and a
 * session the server ended answers close_transaction saying so.
 */
class ServerRefusalsTest extends OnScratchDatabase {

    private static final String DB = "zdm_privileges";
    private static final String RUNNER = "zdm_runner";

    @BeforeAll
    static void aTableTheRoleMayOnlyRead() throws Engines.StartFailed {
        Database scratch = ScratchDatabase.create(DB, RUNNER);
        // Made by the superuser: the runner owns the database (and so the ledger) but not the table.
        Database asSuperuser = ScratchDatabase.as(DB, "postgres");
        ScratchDatabase.exec(asSuperuser,
                "CREATE TABLE accounts (id bigserial PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO accounts (n) SELECT 0 FROM generate_series(1, 500)",
                "GRANT SELECT ON accounts TO " + RUNNER);
        connect(scratch);
    }

    @Test
    void aMissingUpdatePrivilegeIsAPreconditionNamingIt() {
        ObjectNode reply = node.send("""
                {"type":"migrate_data","table":"accounts","batch_size":100,"set":{"n":"n + 1"}}""");

        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(22);
        assertThat(reply.get("text").asText()).contains("lacks a privilege", "permission denied for table accounts",
                "UPDATE");
        assertThat(ScratchDatabase.text(database, "SELECT count(*) FROM accounts WHERE n <> 0")).isEqualTo("0");
    }

    @Test
    void notOwningTheTableIsAPreconditionSayingOwnershipIsNeeded() {
        ObjectNode index = node.send("""
                {"type":"create_index","table":"accounts","column":"n","concurrently":true}""");
        ObjectNode column = node.send("""
                {"type":"add_column","table":"accounts","column":"note","data_type":"text"}""");

        for (ObjectNode reply : new ObjectNode[] {index, column}) {
            assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(22);
            assertThat(reply.get("text").asText()).contains("must be owner of table accounts", "own the table");
        }
    }

    @Test
    void aDatabaseWhoseTransactionsAreReadOnlyFailsTheStartSayingSo() {
        Database readOnly = ScratchDatabase.create("zdm_read_only", RUNNER);
        SharedPostgres.exec("ALTER DATABASE zdm_read_only SET default_transaction_read_only = on");

        assertThatThrownBy(() -> PostgresEngine.connect(readOnly, 3))
                .isInstanceOf(Engines.StartFailed.class)
                .hasMessageContaining("is read-only")
                .hasMessageContaining("default_transaction_read_only")
                .hasMessageNotContaining("cannot reach");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_stat_activity WHERE datname = 'zdm_read_only'"))
                .as("the failed start left no connection behind").isZero();
    }

    @Test
    void aMissingDatabaseAndAnUnknownRoleAreNamedAtStart() {
        assertThatThrownBy(() -> PostgresEngine.connect(ScratchDatabase.as("zdm_no_such_database", RUNNER), 3))
                .isInstanceOf(Engines.StartFailed.class)
                .hasMessageContaining("does not exist")
                .hasMessageStartingWith("the database at");
        assertThatThrownBy(() -> PostgresEngine.connect(ScratchDatabase.as(DB, "zdm_nobody_at_all"), 3))
                .isInstanceOf(Engines.StartFailed.class)
                .hasMessageStartingWith("authentication failed");
    }

    @Test
    void closingASessionTheServerTerminatedSaysSo() throws Exception {
        ObjectNode opened = node.send("""
                {"type":"open_transaction","session":"doomed","table":"accounts","mode":"ACCESS SHARE"}""");
        assertThat(opened.get("type").asText()).as(opened.toString()).isEqualTo("transaction_opened");
        assertThat(ScratchDatabase.text(ScratchDatabase.as(DB, "postgres"), "SELECT pg_terminate_backend(pid)::text"
                + " FROM pg_stat_activity WHERE application_name = 'zdm-session:doomed'")).isEqualTo("true");
        for (int i = 0; i < 100 && ScratchDatabase.text(database, "SELECT pid FROM pg_stat_activity"
                + " WHERE application_name = 'zdm-session:doomed'") != null; i++) {
            Thread.sleep(20);
        }

        ObjectNode closed = node.send("""
                {"type":"close_transaction","session":"doomed"}""");

        assertThat(closed.get("code").asInt()).as(closed.toString()).isEqualTo(13);
        assertThat(closed.get("text").asText()).contains("session doomed", "already been ended by the server");
        assertThat(node.send("""
                {"type":"close_transaction","session":"doomed"}""").get("code").asInt()).as("it is gone").isEqualTo(20);
    }
}
