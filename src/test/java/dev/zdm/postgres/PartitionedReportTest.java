package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static dev.zdm.postgres.SharedPostgres.number;
import static dev.zdm.postgres.SharedPostgres.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's replies that misstated on a partitioned table: its rows and heap files are its
 * partitions', and a statement on the parent locks them too, so table_rewritten and table_locked are
 * read over the whole tree.
 */
class PartitionedReportTest {

    private static final Duration BUDGET = Duration.ofSeconds(5);

    private static void partitioned(String table) {
        exec("DROP TABLE IF EXISTS " + table + " CASCADE",
                "CREATE TABLE " + table + " (id bigint NOT NULL, region text NOT NULL, email text) PARTITION BY LIST (region)",
                "CREATE TABLE " + table + "_eu PARTITION OF " + table + " FOR VALUES IN ('eu')",
                "CREATE TABLE " + table + "_us PARTITION OF " + table + " FOR VALUES IN ('us')",
                "INSERT INTO " + table + " SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'u' || g"
                        + " FROM generate_series(1, 2000) g");
    }

    private static String heapFiles(String partition) {
        return text("SELECT relfilenode::text FROM pg_class WHERE oid = '" + partition + "'::regclass");
    }

    @Test
    void aRewriteOfEveryPartitionIsReportedAsARewrite() throws Exception {
        partitioned("parted_rewrite");
        String eu = heapFiles("parted_rewrite_eu");
        String us = heapFiles("parted_rewrite_us");
        try (PostgresEngine engine = PostgresEngine.connect(SharedPostgres.database(), 3)) {
            ObjectNode reply = new Node(engine, BUDGET).send("{\"type\":\"add_column\",\"table\":\"parted_rewrite\","
                    + "\"column\":\"score\",\"data_type\":\"double precision\",\"default_sql\":\"random()\","
                    + "\"nullable\":false,\"safe\":false}");
            assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
            // What the server did: each partition's heap file is new.
            assertThat(heapFiles("parted_rewrite_eu")).isNotEqualTo(eu);
            assertThat(heapFiles("parted_rewrite_us")).isNotEqualTo(us);
            assertThat(reply.get("table_rewritten").asBoolean()).as(reply.toString()).isTrue();
        }
        assertThat(number("SELECT count(*) FROM parted_rewrite WHERE score IS NULL")).isZero();
    }

    @Test
    void aPlainIndexBuildOnTheParentLocksThePartitionsAndSaysSo() throws Exception {
        partitioned("parted_index");
        try (PostgresEngine engine = PostgresEngine.connect(SharedPostgres.database(), 3)) {
            ObjectNode reply = new Node(engine, BUDGET).send("{\"type\":\"create_index\",\"table\":\"parted_index\","
                    + "\"column\":\"email\",\"index\":\"parted_index_email\",\"concurrently\":false,\"explain\":true}");
            assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_created");
            // A plain CREATE INDEX holds SHARE on the parent and on each partition while it builds.
            assertThat(reply.get("table_locked").asBoolean()).as(reply.toString()).isTrue();
        }
        assertThat(number("SELECT count(*) FROM pg_inherits WHERE inhparent = 'parted_index_email'::regclass")).isEqualTo(2);
    }
}
