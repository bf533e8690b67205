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

    private static void bind(PreparedStatement ps, KeyWalk.Bound bound) throws Exception {
        for (int i = 0; i < bound.params().size(); i++) {
            Object value = bound.params().get(i);
            if (value instanceof Long n) {
                ps.setLong(i + 1, n);
            } else {
                ps.setObject(i + 1, value, Types.OTHER);
            }
        }
    }

    private static String explain(Connection c, String format, KeyWalk.Bound bound) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + format + bound.sql())) {
            bind(ps, bound);
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            return plan.toString();
        }
    }

    /** What the range statement finds, as the runner reads it. */
    private static List<String> found(Connection c, KeyWalk.Bound range) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(range.sql())) {
            bind(ps, range);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                List<String> values = new java.util.ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    values.add(rs.getString(i));
                }
                return values;
            }
        }
    }

    /**
     * The plans of both statements of one batch, as the runner sends them: the range statement run
     * for what it finds, then EXPLAIN of the UPDATE with those bounds bound.
     */
    private static List<String> batchPlans(Connection c, String format, Backfill job, KeyPosition after,
                                           KeyPosition end, long limit) throws Exception {
        KeyWalk walk = job.walk();
        KeyWalk.Bound range = walk.range(job, after, end, limit);
        List<String> found = found(c, range);
        assertThat(found).as("keys left after " + after).isNotNull();
        return List.of(explain(c, format, range), explain(c, format, walk.batch(job, after, end, limit, found)));
    }

    @Test
    void batchesOfANewColumnWalkTheIndexAtAnySizeTheFirstIncluded() throws Exception {
        exec("DROP TABLE IF EXISTS batch_plan",
                "CREATE TABLE batch_plan (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO batch_plan (id) SELECT g FROM generate_series(1, 200000) g",
                "ANALYZE batch_plan",
                "ALTER TABLE batch_plan ADD COLUMN score double precision");
        Backfill job = fillScores();
        KeyPosition end = new KeyPosition(List.of("200000"));
        try (Connection c = SharedPostgres.connect()) {
            for (long limit : new long[] {1000, 8000, 50_000}) {
                for (KeyPosition after : java.util.Arrays.asList(null, new KeyPosition(List.of("1000")))) {
                    for (String plan : batchPlans(c, "", job, after, end, limit)) {
                        assertThat(plan).as("batch of " + limit + " after " + after + ":\n" + plan).doesNotContain("Seq Scan");
                    }
                }
            }
        }
    }

    /**
     * Keys whose order is not the table's (md5 text first, (tenant uuid, id)): the planner guessed an
     * UPDATE bounded above by a subquery at a third of the table and scanned all of it, every batch
     * (1,000,000 rows: ~3 rows/s). Every statement of a batch, first or later, custom or generic plan,
     * must walk the key's index.
     */
    @Test
    void compositeKeysOfAnyOrderAreWalkedByTheirIndexEveryBatch() throws Exception {
        exec("DROP TABLE IF EXISTS plan_text_int, plan_uuid_bigint",
                "CREATE TABLE plan_text_int (a int, b text, v int, PRIMARY KEY (b, a))",
                "INSERT INTO plan_text_int SELECT g % 97, md5(g::text), g FROM generate_series(1, 100000) g",
                "CREATE TABLE plan_uuid_bigint (tenant uuid, id bigint, v int, PRIMARY KEY (tenant, id))",
                "INSERT INTO plan_uuid_bigint SELECT md5((g % 50)::text)::uuid, g, g FROM generate_series(1, 100000) g",
                "ANALYZE plan_text_int", "ANALYZE plan_uuid_bigint");
        record Keyed(String table, String first, String firstType, String second, String secondType) {
        }
        int checked = 0;
        for (Keyed t : List.of(new Keyed("plan_text_int", "b", "text", "a", "integer"),
                new Keyed("plan_uuid_bigint", "tenant", "uuid", "id", "bigint"))) {
            SqlName table = SqlName.of(t.table());
            KeyWalk walk = new KeyWalk.Keyset(new UniqueKey(SqlName.of(t.table() + "_pkey"),
                    List.of(new KeyColumn(SqlName.of(t.first()), DataType.of(t.firstType())),
                            new KeyColumn(SqlName.of(t.second()), DataType.of(t.secondType()))), true));
            Backfill migrate = new Backfill(table, walk, Map.of(SqlName.of("v"), new SqlExpression("v + 1")),
                    null, 1000, null, 0, "plan-" + t.table(), false);
            Backfill fill = new Backfill(table, walk, Map.of(SqlName.of("v"), new SqlExpression("0")),
                    new SqlExpression("\"v\" IS NULL"), 1000, null, 0, "fill-" + t.table(), true);
            String keyOrder = "SELECT " + t.first() + "::text, " + t.second() + "::text FROM " + t.table()
                    + " ORDER BY " + t.first() + ", " + t.second();
            KeyPosition end = key("SELECT " + t.first() + "::text, " + t.second() + "::text FROM " + t.table()
                    + " ORDER BY " + t.first() + " DESC, " + t.second() + " DESC LIMIT 1");
            List<KeyPosition> afters = java.util.Arrays.asList(null, key(keyOrder + " OFFSET 1000 LIMIT 1"),
                    key(keyOrder + " OFFSET 50000 LIMIT 1"));
            for (String mode : List.of("auto", "force_generic_plan")) {
                try (Connection c = SharedPostgres.connect()) {
                    run(c, "SET plan_cache_mode = " + mode);
                    for (Backfill job : List.of(migrate, fill)) {
                        for (KeyPosition after : afters) {
                            for (long limit : new long[] {1, 1000, 8000}) {
                                for (String plan : batchPlans(c, "(FORMAT JSON) ", job, after, end, limit)) {
                                    String what = t.table() + " " + job.jobKey() + " " + mode + " after " + after
                                            + ", " + limit + " rows:\n" + plan;
                                    assertThat(plan).as(what).doesNotContain("\"Seq Scan\"")
                                            .contains("\"Index Name\": \"" + t.table() + "_pkey\"");
                                    checked++;
                                }
                            }
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(2 * 2 * 2 * 3 * 3 * 2);
    }

    private static KeyPosition key(String sql) throws Exception {
        try (Connection c = SharedPostgres.connect(); java.sql.Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return new KeyPosition(List.of(rs.getString(1), rs.getString(2)));
        }
    }

    private static void run(Connection c, String sql) throws Exception {
        try (java.sql.Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
