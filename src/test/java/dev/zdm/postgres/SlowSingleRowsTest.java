package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static dev.zdm.postgres.SharedPostgres.number;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/**
 * A job whose batches, shrunk to one row each, still overrun their batch time stops with a 22 that
 * says so, its committed rows kept, instead of going on at one row per batch without end.
 */
class SlowSingleRowsTest extends OnEmbeddedPostgres {

    @Test
    void oneRowBatchesOverTheirTimeStopTheJobResumably() {
        // Each row takes 60 ms: over the 40 ms batch time alone, well under the 2 s budget a row may take.
        exec("DROP TABLE IF EXISTS slow_rows",
                "CREATE TABLE slow_rows (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO slow_rows (id) SELECT g FROM generate_series(1, 400) g",
                "CREATE OR REPLACE FUNCTION slow_rows_next(v int) RETURNS int VOLATILE"
                        + " LANGUAGE sql AS 'SELECT pg_sleep(0.06); SELECT v + 1'");
        ObjectNode reply = node.send("""
                {"type":"migrate_data","table":"slow_rows","batch_size":100,"set":{"n":"slow_rows_next(n)"}}""");
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("error");
        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(22);
        assertThat(reply.get("text").asText()).contains("took one row each").contains("batch time (40 ms");
        long done = reply.get("total_rows").asLong();
        assertThat(done).as("stopped after its one-row batches, before the end").isBetween(
                (long) dev.zdm.postgres.run.BackfillRunner.MAX_SLOW_SINGLE_ROWS, 399L);
        assertThat(number("SELECT count(*) FROM slow_rows WHERE n = 1")).as("what committed is kept, once").isEqualTo(done);
        assertThat(number("SELECT count(*) FROM slow_rows WHERE n > 1")).isZero();
    }
}
