package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** plan: true on a real server: predicted from its catalog, read only; the table, its data and the ledger unchanged. */
class PlanOnLiveCatalogTest extends OnEmbeddedPostgres {

    /** Columns, heap file, indexes, constraints and every row of the table, as one text. */
    private static String state(String table) {
        return SharedPostgres.text("SELECT (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' '"
                + " || attnotnull, ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '" + table + "'::regclass"
                + " AND attnum > 0 AND NOT attisdropped)"
                + " || ' | file ' || (SELECT relfilenode FROM pg_class WHERE oid = '" + table + "'::regclass)"
                + " || ' | indexes ' || (SELECT count(*) FROM pg_index WHERE indrelid = '" + table + "'::regclass)"
                + " || ' | constraints ' || (SELECT count(*) FROM pg_constraint WHERE conrelid = '" + table + "'::regclass)"
                + " || ' | rows ' || (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM " + table + " t)");
    }

    private static long ledgerRows() {
        return SharedPostgres.number("SELECT count(*) FROM zdm.operations");
    }

    @Test
    void every_operation_planned_changes_nothing_and_writes_no_ledger_row() {
        SharedPostgres.table("plan_live", 3_000);
        String before = state("plan_live");
        long ledger = ledgerRows();

        ObjectNode add = node.send("""
                {"type":"add_column","table":"plan_live","column":"score","data_type":"float8","default_sql":"random()",
                 "nullable":false,"plan":true}""");
        ObjectNode index = node.send("""
                {"type":"create_index","table":"plan_live","column":"email","index":"plan_live_email","unique":true,"plan":true}""");
        ObjectNode migrate = node.send("""
                {"type":"migrate_data","table":"plan_live","batch_size":500,"set":{"n":"n + 1"},"plan":true}""");

        assertThat(add.get("type").asText()).as(add.toString()).isEqualTo("planned");
        assertThat(add.get("predicted_by").asText()).contains("live catalog");
        assertThat(add.get("steps").size()).isGreaterThan(2);
        assertThat(add.get("steps").get(0).get("lock").asText()).isEqualTo("ACCESS EXCLUSIVE");
        assertThat(add.get("table_rewritten").asBoolean()).isFalse();
        assertThat(add.get("would_reply").get("type").asText()).isEqualTo("column_added");
        assertThat(add.get("assumptions").toString()).contains("reltuples");
        assertThat(index.get("type").asText()).as(index.toString()).isEqualTo("planned");
        assertThat(index.get("strongest_lock").asText()).isEqualTo("SHARE UPDATE EXCLUSIVE");
        assertThat(index.get("assumptions").toString()).contains("no duplicates");
        assertThat(migrate.get("type").asText()).as(migrate.toString()).isEqualTo("planned");
        // The rows and batches come from the server's own row estimate of the table.
        assertThat(migrate.get("would_reply").get("total_rows").asLong()).isEqualTo(3_000);
        assertThat(migrate.get("would_reply").get("batches").asLong()).isEqualTo(6);
        JsonNode batch = migrate.get("steps").get(0);
        assertThat(batch.get("batched").asBoolean()).isTrue();
        assertThat(batch.get("lock_held_seconds").asDouble()).isLessThan(batch.get("seconds").asDouble());

        assertThat(state("plan_live")).isEqualTo(before);
        assertThat(ledgerRows()).isEqualTo(ledger);
        // Nothing was made: the same operation, run, finds no column of that name.
        assertThat(node.send("""
                {"type":"add_column","table":"plan_live","column":"score","data_type":"float8","default_sql":"random()",
                 "nullable":false}""").get("type").asText()).isEqualTo("column_added");
        assertThat(ledgerRows()).isEqualTo(ledger + 1);
    }

    @Test
    void a_plan_answers_the_error_the_run_would_and_still_writes_nothing() {
        SharedPostgres.table("plan_live_err", 10);
        long ledger = ledgerRows();
        ObjectNode missing = node.send("""
                {"type":"create_index","table":"plan_live_no_such_table","column":"email","plan":true}""");
        ObjectNode exists = node.send("""
                {"type":"add_column","table":"plan_live_err","column":"email","plan":true}""");
        assertThat(missing.get("code").asInt()).as(missing.toString()).isEqualTo(20);
        assertThat(exists.get("code").asInt()).as(exists.toString()).isEqualTo(21);
        assertThat(ledgerRows()).isEqualTo(ledger);
    }
}
