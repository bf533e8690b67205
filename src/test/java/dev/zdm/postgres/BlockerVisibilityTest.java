package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engines;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A blocker of another role, seen by a role without pg_monitor: pg_stat_activity hides its state and
 * its transaction's start, so blocked_by says it does not know (null) rather than a false 0 ms.
 */
class BlockerVisibilityTest extends OnScratchDatabase {

    private static final String DB = "zdm_blocker_seen";
    private static final String OWNER = "zdm_blocker_seen_owner";

    @BeforeAll
    static void plainRole() throws Engines.StartFailed {
        connect(ScratchDatabase.create(DB, OWNER));
        ScratchDatabase.exec(database, "CREATE TABLE held (id int PRIMARY KEY, n int)",
                "INSERT INTO held SELECT g, g FROM generate_series(1, 100) g");
    }

    @Test
    void anotherRolesBlockerHasNoMadeUpAge() throws Exception {
        try (Connection admin = ScratchDatabase.plainConnection(ScratchDatabase.as(DB, "postgres"));
             Statement s = admin.createStatement()) {
            admin.setAutoCommit(false);
            s.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE");
            Thread.sleep(50);
            ObjectNode refused = node.send("""
                    {"type":"create_index","table":"held","column":"n","max_lock_duration_ms":300}""");
            admin.rollback();
            assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(14);
            JsonNode blocker = refused.get("blocked_by").get(0);
            assertThat(blocker.has("transaction_age_ms")).as(refused.toString()).isTrue();
            assertThat(blocker.get("transaction_age_ms").isNull()).as(refused.toString()).isTrue();
            assertThat(blocker.get("state").isNull()).as(refused.toString()).isTrue();
        }
    }
}
