package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engines;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * session_replication_role = replica as a DBA's default turns triggers and foreign-key checks off: zdm's
 * batches never run that way. It sets origin back where it may (superuser), and refuses to start by name
 * where it may not (a role without superuser and without GRANT SET).
 */
class ReplicationRoleTest {

    @Test
    void underADatabaseDefaultOfReplicaTriggersAndForeignKeysStillHold() throws Exception {
        String db = "zdm_repl_db";
        ScratchDatabase.create(db, "zdm_repl_owner");
        Database superuser = ScratchDatabase.as(db, "postgres");
        ScratchDatabase.exec(superuser,
                "CREATE TABLE parent (id int PRIMARY KEY)",
                "INSERT INTO parent SELECT g FROM generate_series(1, 10) g",
                "CREATE TABLE child (id bigserial PRIMARY KEY, parent_id int NOT NULL REFERENCES parent,"
                        + " n int NOT NULL DEFAULT 0, doubled int)",
                "INSERT INTO child (parent_id) SELECT 1 + g % 10 FROM generate_series(1, 200) g",
                "CREATE FUNCTION double_n() RETURNS trigger LANGUAGE plpgsql AS"
                        + " 'BEGIN NEW.doubled := NEW.n * 2; RETURN NEW; END'",
                "CREATE TRIGGER child_double BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION double_n()");
        SharedPostgres.exec("ALTER DATABASE " + db + " SET session_replication_role = replica");
        try (Connection plain = ScratchDatabase.plainConnection(superuser); Statement s = plain.createStatement();
             var rs = s.executeQuery("SHOW session_replication_role")) {
            rs.next();
            assertThat(rs.getString(1)).as("the database's default a plain client gets").isEqualTo("replica");
        }
        try (PostgresEngine engine = PostgresEngine.connect(superuser, 3)) {
            Node node = new Node(engine, Duration.ofSeconds(2));
            ObjectNode migrated = node.send("""
                    {"type":"migrate_data","table":"child","batch_size":50,"set":{"n":"n + 1"}}""");
            assertThat(migrated.get("type").asText()).as(migrated.toString()).isEqualTo("data_migrated");
            ObjectNode orphans = node.send("""
                    {"type":"migrate_data","table":"child","batch_size":50,"set":{"parent_id":"parent_id + 1000"}}""");
            assertThat(orphans.get("code").asInt()).as("a foreign-key violation: " + orphans).isEqualTo(22);
        }
        assertThat(ScratchDatabase.text(superuser, "SELECT count(*) FROM child WHERE doubled = 2")).isEqualTo("200");
        assertThat(ScratchDatabase.text(superuser, "SELECT count(*) FROM child c WHERE NOT EXISTS"
                + " (SELECT 1 FROM parent p WHERE p.id = c.parent_id)")).isEqualTo("0");
    }

    @Test
    void aRoleThatMayNotSetItBackIsRefusedAtStartNamingTheSetting() {
        String db = "zdm_repl_role";
        String owner = "zdm_repl_role_owner";
        Database database = ScratchDatabase.create(db, owner);
        SharedPostgres.exec("ALTER ROLE " + owner + " IN DATABASE " + db + " SET session_replication_role = replica");
        try {
            assertThatThrownBy(() -> PostgresEngine.connect(database, 3).close())
                    .isInstanceOf(Engines.StartFailed.class)
                    .hasMessageContaining("session_replication_role")
                    .hasMessageContaining("replica");
        } finally {
            SharedPostgres.exec("ALTER ROLE " + owner + " IN DATABASE " + db + " RESET session_replication_role");
        }
    }
}
