package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzz seed 71306: a failed concurrent build leaves an INVALID index to the undo janitor while the
 * application's transaction that stopped it is still open. The janitor's drop must not hold the table
 * while it waits for that transaction: neither zdm's next request nor the application may find it
 * among their blockers.
 */
class JanitorNeverBlocksTest extends OnEmbeddedPostgres {

    @Test
    void aRequestBehindTheApplicationIsBlockedByTheApplicationOnlyNeverByTheJanitor() throws Exception {
        SharedPostgres.table("janitor_race", 2_500);
        try (Connection app = SharedPostgres.connect(); Statement s = app.createStatement()) {
            app.setAutoCommit(false);
            s.execute("SET application_name = 'fuzz-app'");
            s.execute("LOCK TABLE janitor_race IN ROW EXCLUSIVE MODE");
            ObjectNode failed = node.send("""
                    {"type":"create_index","table":"janitor_race","column":"id","max_lock_duration_ms":300}""");
            assertThat(failed.get("code").asInt()).as(failed.toString()).isEqualTo(14);
            assertThat(SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indrelid = 'janitor_race'::regclass"
                    + " AND NOT indisvalid")).isEqualTo(1);
            // The janitor, poked by the failure, has had its turn and its retry 2 s later (before the fix its
            // drop was waiting for the application now, holding SHARE UPDATE EXCLUSIVE on the table).
            Thread.sleep(2_500);

            // The application itself may take what the janitor's drop would hold.
            try (Connection other = SharedPostgres.connect(); Statement o = other.createStatement()) {
                other.setAutoCommit(false);
                o.execute("SET lock_timeout = '1s'");
                o.execute("LOCK TABLE janitor_race IN SHARE UPDATE EXCLUSIVE MODE");
                other.rollback();
            }
            ObjectNode blocked = node.send("""
                    {"type":"add_column","table":"janitor_race","column":"User","data_type":"character varying(40)",
                     "default":"b","nullable":false,"max_lock_duration_ms":600}""");

            assertThat(blocked.get("code").asInt()).as(blocked.toString()).isEqualTo(14);
            assertThat(names(blocked)).as(blocked.toString()).contains("fuzz-app").doesNotContain("zdm-janitor");
            app.commit();
        }
        // With the application gone, the janitor still drops what the failed build left.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (invalid() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(invalid()).isZero();
    }

    private static long invalid() throws SQLException {
        return SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indrelid = 'janitor_race'::regclass"
                + " AND NOT indisvalid");
    }

    private static List<String> names(ObjectNode reply) {
        List<String> names = new ArrayList<>();
        if (reply.has("blocked_by")) {
            reply.get("blocked_by").forEach(b -> names.add(b.path("application_name").asText()));
        }
        return names;
    }
}
