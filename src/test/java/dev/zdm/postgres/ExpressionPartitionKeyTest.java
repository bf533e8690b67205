package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.SqlName;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13: a partition key that is an expression (lower(email), date_trunc('month', created_at)) is
 * computed from columns, and a set that writes one may move rows between partitions, which zdm's
 * per-partition batches cannot do (the UPDATE of a partition fails "violates partition constraint"
 * mid-way). Refused 22 before any row on both engines, as a plain key column is; a set of another
 * column runs. As a role without superuser, in a schema other than public.
 */
class ExpressionPartitionKeyTest {

    private static final Duration BUDGET = Duration.ofSeconds(5);
    private static Database tenant;

    @BeforeAll
    static void schema() throws Exception {
        exec("DROP DATABASE IF EXISTS epk_db WITH (FORCE)", "DROP ROLE IF EXISTS epk_tenant",
                "CREATE ROLE epk_tenant LOGIN PASSWORD 'epk_tenant' NOSUPERUSER NOCREATEDB NOCREATEROLE",
                "CREATE DATABASE epk_db OWNER epk_tenant");
        tenant = ScratchDatabase.withPassword("epk_db", "epk_tenant");
        try (Connection c = tenant.connect("zdm-test"); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA \"App Data\"");
            s.execute("SET search_path = \"App Data\"");
            s.execute("CREATE TABLE accounts (id int NOT NULL, email text NOT NULL, \"Nick\" text,"
                    + " n int NOT NULL DEFAULT 0) PARTITION BY RANGE ((lower(email)))");
            s.execute("CREATE TABLE accounts_am PARTITION OF accounts FOR VALUES FROM ('a') TO ('n')");
            s.execute("CREATE TABLE accounts_nz PARTITION OF accounts FOR VALUES FROM ('n') TO ('{')");
            s.execute("ALTER TABLE accounts_am ADD PRIMARY KEY (id)");
            s.execute("ALTER TABLE accounts_nz ADD PRIMARY KEY (id)");
            s.execute("INSERT INTO accounts (id, email) SELECT g, chr(97 + g % 26) || g || '@x' FROM generate_series(1, 100) g");
            s.execute("CREATE TABLE events (id int NOT NULL, created_at timestamptz NOT NULL, v int NOT NULL DEFAULT 0)"
                    + " PARTITION BY LIST (date_trunc('month', created_at AT TIME ZONE 'UTC'))");
            s.execute("CREATE TABLE events_jan PARTITION OF events FOR VALUES IN ('2024-01-01')");
            s.execute("ALTER TABLE events_jan ADD PRIMARY KEY (id)");
            s.execute("INSERT INTO events SELECT g, '2024-01-05 00:00Z'::timestamptz + g * interval '1 hour', 0"
                    + " FROM generate_series(1, 50) g");
        }
    }

    @Test
    void theCatalogsNameTheColumnsAKeyExpressionReads() throws Exception {
        try (PostgresEngine engine = PostgresEngine.connect(tenant, 3)) {
            dev.zdm.pg.CatalogView catalog = engine.catalog();
            assertThat(catalog.lineage(new SqlName("App Data", "accounts")).keyExpressionColumns())
                    .containsExactly(SqlName.of("email"));
            assertThat(catalog.lineage(new SqlName("App Data", "events")).keyExpressionColumns())
                    .containsExactly(SqlName.of("created_at"));
        }
        Schema schema;
        try (Connection c = tenant.connect("zdm-test")) {
            schema = CatalogReader.read(c, line -> { });
        }
        assertThat(schema.tables().values().stream().map(t -> t.lineage()).filter(l -> l != null)
                .flatMap(l -> l.keyExpressionColumns().stream()).map(SqlName::value).toList())
                .containsExactlyInAnyOrder("email", "created_at");
    }

    @Test
    void aSetOfAColumnTheKeyExpressionReadsIsRefusedBeforeAnyRowOnBothEngines() throws Exception {
        try (PostgresEngine engine = PostgresEngine.connect(tenant, 3)) {
            Schema schema;
            try (Connection c = tenant.connect("zdm-test")) {
                schema = CatalogReader.read(c, line -> { });
            }
            Node simulator = new Node(new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()),
                    CostModel.DEFAULT, RetryPolicy.of(3)), BUDGET);
            for (Node node : List.of(simulator, new Node(engine, BUDGET))) {
                ObjectNode moved = node.send("""
                        {"type":"migrate_data","schema":"App Data","table":"accounts","set":{"email":"'z' || email","n":"n + 1"},
                         "batch_size":10}""");
                assertThat(moved.path("code").asInt()).as(moved.toString()).isEqualTo(22);
                assertThat(moved.get("text").asText()).as(moved.toString()).contains("email").contains("partition key")
                        .contains("accounts");
                ObjectNode later = node.send("""
                        {"type":"migrate_data","schema":"App Data","table":"events",
                         "set":{"created_at":"created_at + interval '40 days'"},"batch_size":10}""");
                assertThat(later.path("code").asInt()).as(later.toString()).isEqualTo(22);
                assertThat(later.get("text").asText()).as(later.toString()).contains("created_at");
            }
            assertThat(count("SELECT count(*) FROM \"App Data\".accounts WHERE n <> 0 OR email !~ '^[a-z][0-9]+@x$'")).isZero();
            for (Node node : List.of(simulator, new Node(engine, BUDGET))) {
                ObjectNode other = node.send("""
                        {"type":"migrate_data","schema":"App Data","table":"accounts","set":{"Nick":"upper(email)"},
                         "batch_size":10}""");
                assertThat(other.path("type").asText()).as(other.toString()).isEqualTo("data_migrated");
                assertThat(other.get("total_rows").asLong()).isEqualTo(100);
            }
            assertThat(count("SELECT count(*) FROM \"App Data\".accounts WHERE \"Nick\" = upper(email)")).isEqualTo(100);
        }
    }

    private static long count(String sql) throws Exception {
        try (Connection c = tenant.connect("zdm-test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
