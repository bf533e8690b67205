package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static dev.zdm.postgres.SharedPostgres.number;
import static dev.zdm.postgres.SharedPostgres.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/**
 * A create_index whose node was killed mid-build: its backend finishes the concurrent build anyway, and
 * the ledger is left as the kill left it (running, no step done, the index recorded by OID from the
 * moment it existed). Staged deterministically: the request runs, then its ledger row is put back to
 * that state. The same request sent again answers index_created, keeping that index; an index of that
 * name that is not the operation's recorded one stays 21.
 */
class IndexResendAfterCrashTest extends OnEmbeddedPostgres {

    private static final String REQUEST = """
            {"type":"create_index","table":"%s","column":"email","index":"%s"}""";

    private static long indexOid(String index) {
        return number("SELECT coalesce((SELECT oid FROM pg_class WHERE relname = '" + index + "'), 0)");
    }

    /** The ledger as a node killed during the CREATE INDEX CONCURRENTLY leaves it. */
    private static void asIfKilledMidBuild(String table, String state, boolean undone) {
        exec("UPDATE zdm.operations SET state = '" + state + "', steps_done = 0, detail = NULL WHERE table_name = '"
                        + table + "'",
                "UPDATE zdm.objects SET undone = " + undone + " WHERE operation_id = (SELECT id FROM zdm.operations"
                        + " WHERE table_name = '" + table + "')");
    }

    private static String ledgerState(String table) {
        return text("SELECT state FROM zdm.operations WHERE table_name = '" + table + "'");
    }

    @Test
    void theIndexTheKilledRunsBackendFinishedIsTheResendsAnswer() throws Exception {
        SharedPostgres.table("resent_idx", 2_000);
        String request = REQUEST.formatted("resent_idx", "resent_idx_email");
        assertThat(node.send(request).get("type").asText()).isEqualTo("index_created");
        long built = indexOid("resent_idx_email");
        assertThat(number("SELECT count(*) FROM zdm.objects o JOIN zdm.operations op ON op.id = o.operation_id"
                + " WHERE op.table_name = 'resent_idx' AND o.kind = 'index' AND o.object_oid = " + built))
                .as("recorded by OID").isEqualTo(1);
        asIfKilledMidBuild("resent_idx", "running", false);

        ObjectNode resent = node.send(request);

        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("index_created");
        assertThat(ledgerState("resent_idx")).isEqualTo("done");
        assertThat(indexOid("resent_idx_email")).as("the same index, kept, not built again").isEqualTo(built);
        assertThat(text("SELECT indisvalid::text FROM pg_index WHERE indexrelid = " + built)).isEqualTo("true");
    }

    /** A resend that already met it (the ledger then says failed, the record marked undone) finds it too. */
    @Test
    void afterAFailedResendTheIndexIsStillTheOperationsOwn() throws Exception {
        SharedPostgres.table("resent_idx_failed", 2_000);
        String request = REQUEST.formatted("resent_idx_failed", "resent_idx_failed_email");
        assertThat(node.send(request).get("type").asText()).isEqualTo("index_created");
        long built = indexOid("resent_idx_failed_email");
        asIfKilledMidBuild("resent_idx_failed", "failed", true);

        ObjectNode resent = node.send(request);

        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("index_created");
        assertThat(ledgerState("resent_idx_failed")).isEqualTo("done");
        assertThat(indexOid("resent_idx_failed_email")).isEqualTo(built);
    }

    /** An INVALID leftover of the killed build is still dropped and built again. */
    @Test
    void anInvalidLeftoverIsStillDroppedAndBuiltAgain() throws Exception {
        SharedPostgres.table("resent_idx_invalid", 2_000);
        String request = REQUEST.formatted("resent_idx_invalid", "resent_idx_invalid_email");
        assertThat(node.send(request).get("type").asText()).isEqualTo("index_created");
        long leftover = indexOid("resent_idx_invalid_email");
        // What a build cancelled mid-way leaves (the embedded server's role is a superuser).
        exec("UPDATE pg_index SET indisvalid = false WHERE indexrelid = " + leftover);
        asIfKilledMidBuild("resent_idx_invalid", "running", false);

        ObjectNode resent = node.send(request);

        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("index_created");
        long rebuilt = indexOid("resent_idx_invalid_email");
        assertThat(rebuilt).isNotZero().isNotEqualTo(leftover);
        assertThat(text("SELECT indisvalid::text FROM pg_index WHERE indexrelid = " + rebuilt)).isEqualTo("true");
        assertThat(ledgerState("resent_idx_invalid")).isEqualTo("done");
    }

    /** The user's own index of that name is not the operation's: 21, whatever the ledger holds. */
    @Test
    void anIndexOfThatNameTheUserMadeStaysExists() throws Exception {
        SharedPostgres.table("resent_idx_user", 2_000);
        exec("CREATE INDEX resent_idx_user_email ON resent_idx_user (email)");
        ObjectNode fresh = node.send(REQUEST.formatted("resent_idx_user", "resent_idx_user_email"));
        assertThat(fresh.get("code").asInt()).as(fresh.toString()).isEqualTo(21);

        // The operation made its index, the user then replaced it with one of the same name.
        SharedPostgres.table("resent_idx_swap", 2_000);
        String request = REQUEST.formatted("resent_idx_swap", "resent_idx_swap_email");
        assertThat(node.send(request).get("type").asText()).isEqualTo("index_created");
        long built = indexOid("resent_idx_swap_email");
        exec("DROP INDEX resent_idx_swap_email", "CREATE INDEX resent_idx_swap_email ON resent_idx_swap (email)");
        long users = indexOid("resent_idx_swap_email");
        asIfKilledMidBuild("resent_idx_swap", "running", false);

        ObjectNode resent = node.send(request);

        assertThat(users).isNotEqualTo(built);
        assertThat(resent.get("code").asInt()).as(resent.toString()).isEqualTo(21);
        assertThat(indexOid("resent_idx_swap_email")).as("the user's index untouched").isEqualTo(users);
    }
}
