package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Throttling;
import dev.zdm.postgres.connect.DemoTable;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The course's three examples through the real handlers on a demo users table, figures checked against the server. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SeedExamplesTest extends OnEmbeddedPostgres {

    @BeforeAll
    static void start() throws Exception {
        // The seed's replies count batches of exactly batch_size: a batch time (the node's
        // --batch-time-ms) that 1000 rows fit in even on a busy machine; at the default 40 ms a slow
        // moment may split the job more finely, which the seed does not foresee.
        engine.throttleDefaults(new Throttling(null, null, Throttling.DEFAULT_MAX_THROTTLE, Duration.ofMillis(500)));
        SharedPostgres.exec("DROP TABLE IF EXISTS users");
        try (var c = SharedPostgres.connect()) {
            DemoTable.ensure(c, 20_000);
        }
    }

    @Test
    @Order(1)
    void createIndexConcurrentlyLeavesAValidIndexAndNeverLockedTheTable() {
        ObjectNode reply = node.send("""
                {"type":"create_index","table":"users","column":"email","concurrently":true,"explain":true}""");

        assertThat(reply.get("type").asText()).isEqualTo("index_created");
        assertThat(reply.get("index").asText()).isEqualTo("idx_email");
        assertThat(reply.get("table_locked").asBoolean()).isFalse();
        assertThat(reply.get("duration_seconds").asDouble()).isPositive();
        assertThat(SharedPostgres.text("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'idx_email'::regclass"))
                .isEqualTo("true");
        String strongest = reply.get("observed").get("strongest_lock").asText();
        assertThat(strongest).isIn("SHARE UPDATE EXCLUSIVE", "none seen");
    }

    @Test
    @Order(2)
    void addColumnWithConstantDefaultIsCatalogOnly() {
        long fileBefore = SharedPostgres.number("SELECT relfilenode FROM pg_class WHERE oid = 'users'::regclass");

        ObjectNode reply = node.send("""
                {"type":"add_column","table":"users","column":"status","default":"active","nullable":false,"explain":true}""");

        assertThat(reply.get("type").asText()).isEqualTo("column_added");
        assertThat(reply.get("table_rewritten").asBoolean()).isFalse();
        assertThat(SharedPostgres.number("SELECT relfilenode FROM pg_class WHERE oid = 'users'::regclass"))
                .isEqualTo(fileBefore);
        assertThat(SharedPostgres.number("SELECT count(*) FROM users WHERE status = 'active'")).isEqualTo(20_000);
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'users'::regclass"
                + " AND attname = 'status'")).isEqualTo("true");
        var step = reply.get("observed").get("steps").get(0);
        assertThat(step.get("lock").asText()).isEqualTo("ACCESS EXCLUSIVE");
        assertThat(step.get("rows_touched").asLong()).isZero();
    }

    @Test
    @Order(3)
    void migrateDataInTenBatches() {
        ObjectNode reply = node.send("""
                {"type":"migrate_data","table":"users","batch_size":1000,"total_rows":10000}""");

        assertThat(reply.toString()).isEqualTo(
                "{\"type\":\"data_migrated\",\"in_reply_to\":" + reply.get("in_reply_to") + ",\"total_rows\":10000,"
                        + "\"batches\":10,\"table_locked\":false}");
        assertThat(SharedPostgres.number("SELECT batches_done FROM zdm.checkpoints JOIN zdm.operations o"
                + " ON o.id = operation_id WHERE o.table_name = 'users' AND o.kind = 'migrate_data'"))
                .isEqualTo(10);
    }

    @Test
    @Order(4)
    void theSameMigrationAgainAnswersItsRecordedTotalsWithoutRunning() {
        // Every UPDATE gives a row a new version with a new xmin: unchanged xmins mean nothing ran.
        String versions = "SELECT sum(xmin::text::bigint) FROM users WHERE id <= 10000";
        long before = SharedPostgres.number(versions);

        ObjectNode reply = node.send("""
                {"type":"migrate_data","table":"users","batch_size":1000,"total_rows":10000}""");

        assertThat(reply.get("total_rows").asLong()).isEqualTo(10_000);
        assertThat(reply.get("batches").asInt()).isEqualTo(10);
        assertThat(SharedPostgres.number(versions)).isEqualTo(before);
    }

    @Test
    @Order(5)
    void hostileIdentifiersAreOnlyNamesAndExpressionsAreCheckedBeforeAnySql() {
        ObjectNode reply = node.send("""
                {"type":"create_index","table":"users; drop table users","column":"email"}""");
        ObjectNode column = node.send("""
                {"type":"add_column","table":"users","column":"x\\" text; drop table users; --"}""");
        ObjectNode set = node.send("""
                {"type":"migrate_data","table":"users","batch_size":10,"set":{"name":"'a'); drop table users; --"}}""");

        // A name is exact and always quoted: the hostile table is one nobody has, the hostile column a column
        // of that very name; an expression is checked before anything runs.
        assertThat(reply.get("code").asInt()).isEqualTo(20);
        assertThat(column.get("type").asText()).as(column.toString()).isEqualTo("column_added");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass"
                + " AND attname = 'x\" text; drop table users; --'")).isEqualTo(1);
        SharedPostgres.exec("ALTER TABLE users DROP COLUMN \"x\"\" text; drop table users; --\"");
        assertThat(set.get("code").asInt()).isEqualTo(12);
        assertThat(SharedPostgres.number("SELECT count(*) FROM users")).isEqualTo(20_000);
    }

    @Test
    @Order(6)
    void unknownTableAndExistingIndexAreErrors() {
        assertThat(node.send("""
                {"type":"create_index","table":"nope","column":"email"}""").get("code").asInt()).isEqualTo(20);
        assertThat(node.send("""
                {"type":"create_index","table":"users","column":"email"}""").get("code").asInt()).isEqualTo(21);
    }
}
