package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.CatalogView;
import dev.zdm.pg.Lineage;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.schema.CatalogReader;
import dev.zdm.simulator.SimCatalog;
import java.sql.Connection;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Partitions and inheritance as the server's catalog answers them, and as --schema-from hands them to
 * the simulator: the same facts on both sides, or the two engines would plan different steps.
 */
class LineageTest {

    private static final SqlName SALES = SqlName.table("lineage_s", "sales");
    private static final SqlName SALES_EU = SqlName.table("lineage_s", "sales_eu");
    private static final SqlName SALES_US = SqlName.table("lineage_s", "sales_us");
    private static final SqlName SALES_US_2024 = SqlName.table("lineage_s", "sales_us_2024");
    private static final SqlName EVENTS = SqlName.table("lineage_s", "events");
    private static final SqlName EVENTS_OLD = SqlName.table("lineage_s", "events_old");
    private static final SqlName BY_DAY = SqlName.table("lineage_s", "by_day");

    @BeforeAll
    static void tree() {
        exec("DROP SCHEMA IF EXISTS lineage_s CASCADE", "CREATE SCHEMA lineage_s",
                "CREATE TABLE lineage_s.sales (id bigint NOT NULL, region text NOT NULL, sold date NOT NULL)"
                        + " PARTITION BY LIST (region)",
                "CREATE TABLE lineage_s.sales_eu PARTITION OF lineage_s.sales FOR VALUES IN ('eu')",
                "CREATE TABLE lineage_s.sales_us PARTITION OF lineage_s.sales FOR VALUES IN ('us') PARTITION BY RANGE (sold)",
                "CREATE TABLE lineage_s.sales_us_2024 PARTITION OF lineage_s.sales_us"
                        + " FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
                "CREATE TABLE lineage_s.events (id bigint, at timestamptz)",
                "CREATE TABLE lineage_s.events_old () INHERITS (lineage_s.events)",
                "CREATE TABLE lineage_s.by_day (id bigint, at timestamp) PARTITION BY RANGE (id, (at::date))");
    }

    @Test
    void theServerSaysWhichTablesArePartitionedPartitionsOrChildren() throws Exception {
        try (PostgresEngine engine = SharedPostgres.engine()) {
            says(engine.catalog());
        }
    }

    private static void says(CatalogView catalog) {
        Lineage sales = catalog.lineage(SALES);
        assertThat(sales.partitioned()).isTrue();
        assertThat(sales.partitionKey()).containsExactly(SqlName.of("region"));
        assertThat(sales.parents()).isEmpty();
        assertThat(sales.children()).containsExactly(SALES_EU, SALES_US);

        Lineage us = catalog.lineage(SALES_US);
        assertThat(us.partition()).isTrue();
        assertThat(us.parent()).isEqualTo(SALES);
        assertThat(us.partitionKey()).containsExactly(SqlName.of("sold"));
        assertThat(us.children()).containsExactly(SALES_US_2024);

        Lineage old = catalog.lineage(EVENTS_OLD);
        assertThat(old.inheritanceChild()).isTrue();
        assertThat(old.parent()).isEqualTo(EVENTS);
        assertThat(catalog.lineage(EVENTS).children()).containsExactly(EVENTS_OLD);
        assertThat(catalog.lineage(EVENTS).partitioned()).isFalse();

        // An expression in the key has no column to name: the unique-index rule cannot be met.
        assertThat(catalog.lineage(BY_DAY).partitionKey()).isEqualTo(Arrays.asList(SqlName.of("id"), null));
        assertThat(catalog.lineage(BY_DAY).keyHasExpression()).isTrue();
        assertThat(catalog.lineage(SALES_EU)).isEqualTo(new Lineage(List.of(SALES), true, null, List.of()));
    }

    @Test
    void schemaFromGivesTheSimulatorTheSameLineage() throws Exception {
        try (PostgresEngine engine = SharedPostgres.engine(); Connection c = SharedPostgres.connect()) {
            CatalogView server = engine.catalog();
            SimCatalog sim = SimCatalog.of(CatalogReader.read(c, line -> { }), ServerVersion.DEFAULT);
            for (SqlName table : List.of(SALES, SALES_EU, SALES_US, SALES_US_2024, EVENTS, EVENTS_OLD, BY_DAY)) {
                assertThat(sim.lineage(table)).as(table.toString()).isEqualTo(server.lineage(table));
            }
        }
    }
}
