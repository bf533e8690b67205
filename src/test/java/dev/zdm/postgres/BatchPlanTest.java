package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.Backfill;
import dev.zdm.pg.DataType;
import dev.zdm.pg.KeyColumn;
import dev.zdm.pg.KeyPosition;
import dev.zdm.pg.KeyWalk;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.UniqueKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Types;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the server makes of a batch statement, by EXPLAIN on a real table: a batch walks the key's index
 * whatever its size, and never scans the whole table (which a batch would do once per batch). Both ways
 * it went wrong were plans PostgreSQL chose on its own estimates: the NULL-filling search for the next
 * keys of a column without statistics, and the first batch's UPDATE bounded only from above.
 */
class BatchPlanTest {

    private static final SqlName TABLE = SqlName.of("batch_plan");
    private static final SqlName SCORE = SqlName.of("score");

    private static Backfill fillScores() {
        KeyWalk walk = new KeyWalk.Keyset(new UniqueKey(SqlName.of("batch_plan_pkey"),
                List.of(new KeyColumn(SqlName.of("id"), DataType.of("bigint"))), true));
        return new Backfill(TABLE, walk, Map.of(SCORE, new SqlExpression("random()")),
                new SqlExpression("\"score\" IS NULL"), 100_000, null, 0, "plan-test", true);
    }

    private static String explain(KeyWalk.Bound bound) throws Exception {
        try (Connection c = SharedPostgres.connect();
             PreparedStatement ps = c.prepareStatement("EXPLAIN " + bound.sql())) {
            for (int i = 0; i < bound.params().size(); i++) {
                Object value = bound.params().get(i);
                if (value instanceof Long n) {
                    ps.setLong(i + 1, n);
                } else {
                    ps.setObject(i + 1, value, Types.OTHER);
                }
            }
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            return plan.toString();
        }
    }

    @Test
    void batchesOfANewColumnWalkTheIndexAtAnySizeTheFirstIncluded() throws Exception {
        exec("DROP TABLE IF EXISTS batch_plan",
                "CREATE TABLE batch_plan (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO batch_plan (id) SELECT g FROM generate_series(1, 200000) g",
                "ANALYZE batch_plan",
                "ALTER TABLE batch_plan ADD COLUMN score double precision");
        Backfill job = fillScores();
        KeyWalk walk = job.walk();
        KeyPosition end = new KeyPosition(List.of("200000"));
        for (long limit : new long[] {1000, 8000, 50_000}) {
            String first = explain(walk.batch(job, null, end, limit));
            String later = explain(walk.batch(job, new KeyPosition(List.of("1000")), end, limit));
            assertThat(first).as("first batch of " + limit + ":\n" + first).doesNotContain("Seq Scan");
            assertThat(later).as("a later batch of " + limit + ":\n" + later).doesNotContain("Seq Scan");
        }
    }
}
