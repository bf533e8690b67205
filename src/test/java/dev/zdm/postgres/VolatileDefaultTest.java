package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** A volatile default on a table with rows takes the long way round, and the table is never rewritten. */
class VolatileDefaultTest extends OnEmbeddedPostgres {

    @Test
    void volatileDefaultNotNullGoesTheSafeWay() {
        SharedPostgres.table("vol", 5_000);
        long fileBefore = SharedPostgres.number("SELECT relfilenode FROM pg_class WHERE oid = 'vol'::regclass");

        ObjectNode reply = node.send("""
                {"type":"add_column","table":"vol","column":"score","data_type":"float8","default_sql":"random()",
                 "nullable":false,"explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
        assertThat(reply.get("table_rewritten").asBoolean()).isFalse();
        assertThat(SharedPostgres.number("SELECT relfilenode FROM pg_class WHERE oid = 'vol'::regclass"))
                .isEqualTo(fileBefore);
        assertThat(SharedPostgres.number("SELECT count(*) FROM vol WHERE score IS NULL")).isZero();
        assertThat(SharedPostgres.number("SELECT count(DISTINCT score) FROM vol")).isGreaterThan(4_000);
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'vol'::regclass"
                + " AND attname = 'score'")).isEqualTo("true");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'vol'::regclass"
                + " AND contype = 'c'")).isZero();
        assertThat(SharedPostgres.text("SELECT state FROM zdm.operations WHERE table_name = 'vol'"
                + " AND kind = 'add_column'")).isEqualTo("done");
    }

    @Test
    void theUnsafeWayIsObservedRewritingUnderAccessExclusive() {
        SharedPostgres.table("vol_unsafe", 5_000);

        ObjectNode reply = node.send("""
                {"type":"add_column","table":"vol_unsafe","column":"score","data_type":"float8","default_sql":"random()",
                 "safe":false,"explain":true}""");

        assertThat(reply.get("table_rewritten").asBoolean()).as(reply.toString()).isTrue();
        var step = reply.get("observed").get("steps").get(0);
        assertThat(step.get("lock").asText()).isEqualTo("ACCESS EXCLUSIVE");
        assertThat(step.get("rows_touched").asLong()).isGreaterThanOrEqualTo(5_000);
    }
}
