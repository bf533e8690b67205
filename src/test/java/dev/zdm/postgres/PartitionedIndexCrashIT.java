package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Issue 13's fault: a node killed with SIGKILL between two partitions of a partitioned index build. The
 * same request sent to another node continues the build: the partitions' indexes already attached are
 * kept (same OID), the rest are built and attached, and no index of the tree is left INVALID.
 */
class PartitionedIndexCrashIT extends OnRestartableServer {

    private static final String REQUEST = """
            {"type":"create_index","schema":"pkill","table":"sales","column":"email","index":"sales_email",
             "max_lock_duration_ms":60000}""";

    @Test
    void aNodeKilledBetweenPartitionsIsFinishedByTheSameRequest() throws Exception {
        server.exec("CREATE SCHEMA pkill",
                "CREATE TABLE pkill.sales (id bigint NOT NULL, region text NOT NULL, sold date NOT NULL, email text)"
                        + " PARTITION BY LIST (region)",
                "CREATE TABLE pkill.sales_eu PARTITION OF pkill.sales FOR VALUES IN ('eu')",
                "CREATE TABLE pkill.sales_us PARTITION OF pkill.sales FOR VALUES IN ('us') PARTITION BY RANGE (sold)",
                "CREATE TABLE pkill.sales_us_2024 PARTITION OF pkill.sales_us FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
                "CREATE TABLE pkill.sales_us_2025 PARTITION OF pkill.sales_us FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
                "INSERT INTO pkill.sales SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END,"
                        + " date '2024-06-01' + (g % 400), 'u' || g FROM generate_series(1, 20000) g");
        // A holder on the last partition stops the build right before it: the node is killed there.
        try (Connection holder = server.database().connect("holder")) {
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.execute("LOCK TABLE pkill.sales_us_2025 IN ACCESS EXCLUSIVE MODE");
            }
            try (NodeProcess victim = readyNode()) {
                victim.send(REQUEST);
                long deadline = System.currentTimeMillis() + 60_000;
                while (server.number("SELECT count(*) FROM pg_locks WHERE NOT granted"
                        + " AND relation = 'pkill.sales_us_2025'::regclass") == 0) {
                    assertThat(System.currentTimeMillis()).as("the build reached the last partition").isLessThan(deadline);
                    Thread.sleep(20);
                }
                victim.kill9();
            }
            holder.rollback();
        }
        assertThat(server.text("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'pkill.sales_email'::regclass"))
                .as("killed half-way").isEqualTo("false");
        long eu = server.number("SELECT 'pkill.sales_eu_email_idx'::regclass::oid::bigint");
        long us2024 = server.number("SELECT 'pkill.sales_us_2024_email_idx'::regclass::oid::bigint");

        ObjectNode resent;
        try (NodeProcess survivor = node()) {
            survivor.send(REQUEST);
            resent = survivor.reply();
        }

        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("index_created");
        assertThat(server.number("SELECT count(*) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid"
                + " WHERE x.relnamespace = 'pkill'::regnamespace AND NOT i.indisvalid")).as("no INVALID index").isZero();
        assertThat(server.text("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'pkill.sales_email'::regclass"))
                .isEqualTo("true");
        assertThat(server.number("SELECT 'pkill.sales_eu_email_idx'::regclass::oid::bigint")).as("kept").isEqualTo(eu);
        assertThat(server.number("SELECT 'pkill.sales_us_2024_email_idx'::regclass::oid::bigint")).isEqualTo(us2024);
        assertThat(server.number("SELECT count(*) FROM pg_inherits WHERE inhparent = 'pkill.sales_us_email_idx'::regclass"))
                .isEqualTo(2);
        assertThat(server.text("SELECT state FROM zdm.operations WHERE table_name = 'sales'")).isEqualTo("done");
    }
}
