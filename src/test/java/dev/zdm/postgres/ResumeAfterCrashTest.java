package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A migrate_data whose connection is killed mid-job (pg_terminate_backend, as a crash or a failover
 * would) answers error 13; the same request again resumes from the checkpoint, and with a
 * non-idempotent SET every row ends up updated exactly once.
 */
class ResumeAfterCrashTest extends OnEmbeddedPostgres {

    /**
     * batch_time_ms far above what 500 rows take even on a busy machine, so every batch is batch_size
     * and the count is exact (at the default 40 ms a slow moment may split the job more finely).
     */
    private static final String REQUEST = """
            {"type":"migrate_data","table":"resume_me","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":20,
             "batch_time_ms":500}""";

    @BeforeAll
    static void start() {
        SharedPostgres.table("resume_me", 20_000);
    }

    @Test
    void killedJobResumesExactlyOnce() throws Exception {
        CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(REQUEST));
        while (SharedPostgres.number("SELECT coalesce(max(rows_done), 0) FROM zdm.checkpoints"
                + " JOIN zdm.operations o ON o.id = operation_id WHERE o.table_name = 'resume_me'") < 5_000) {
            Thread.sleep(5);
        }
        SharedPostgres.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                + " WHERE application_name = 'zdm-migration'");
        ObjectNode crashed = first.get();
        long doneAtCrash = SharedPostgres.number("SELECT rows_done FROM zdm.checkpoints"
                + " JOIN zdm.operations o ON o.id = operation_id WHERE o.table_name = 'resume_me'");

        ObjectNode resumed = node.send(REQUEST);

        assertThat(crashed.get("code").asInt()).as(crashed.toString()).isEqualTo(13);
        assertThat(doneAtCrash).isBetween(5_000L, 19_500L);
        assertThat(resumed.get("type").asText()).as(resumed.toString()).isEqualTo("data_migrated");
        assertThat(resumed.get("total_rows").asLong()).isEqualTo(20_000);
        assertThat(resumed.get("batches").asInt()).isEqualTo(40);
        assertThat(SharedPostgres.number("SELECT count(*) FROM resume_me WHERE n <> 1")).isZero();
    }
}
