package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * zdm's ledger and the server's catalogs are refused (22) as the server resolves the name, even to a
 * superuser, who could otherwise forge the ledger or write to pg_catalog.
 */
class SystemSchemasOnPostgresTest {

    private static PostgresEngine engine;
    private static Node node;

    @BeforeAll
    static void start() {
        engine = SharedPostgres.engine();
        node = new Node(engine, Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    private static void refused(String request) throws Exception {
        ObjectNode reply = node.send(request);
        assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(22);
    }

    @Test
    void theLedgerIsNoTarget() throws Exception {
        // A finished operation of its own, so the ledger has a row to forge.
        SharedPostgres.table("ss_ledger_probe", 10);
        node.send("""
                {"type":"migrate_data","table":"ss_ledger_probe","batch_size":5,"set":{"n":"n + 1"}}""");
        long before = SharedPostgres.number("SELECT count(*) FROM zdm.operations WHERE state <> 'done'");

        refused("""
                {"type":"migrate_data","schema":"zdm","table":"operations","batch_size":10,"set":{"state":"'done'"}}""");
        refused("""
                {"type":"add_column","schema":"zdm","table":"operations","column":"forged","data_type":"int"}""");

        assertThat(SharedPostgres.number("SELECT count(*) FROM zdm.operations WHERE state <> 'done'")).isEqualTo(before);
        assertThat(SharedPostgres.number("SELECT count(*) FROM information_schema.columns"
                + " WHERE table_schema = 'zdm' AND column_name = 'forged'")).isZero();
    }

    @Test
    void anUnqualifiedCatalogNameIsPgCatalogsAndNoTarget() throws Exception {
        refused("""
                {"type":"migrate_data","table":"pg_shdescription","batch_size":10,"set":{"description":"'x'"}}""");
        refused("""
                {"type":"add_column","table":"pg_class","column":"forged","data_type":"int"}""");
        refused("""
                {"type":"create_index","schema":"pg_catalog","table":"pg_class","column":"relname"}""");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'pg_class'::regclass"
                + " AND attname = 'forged'")).isZero();
    }
}
