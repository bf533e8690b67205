package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.ColumnDefault;
import dev.zdm.pg.DataType;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Step;
import dev.zdm.protocol.ZdmException;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.SimCatalog;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * migrate_data and add_column's safe way on the keys real tables have: uuid, text in a non-C collation,
 * composite (int, text), a unique NOT NULL column without a primary key, no key at all, an identity
 * key GENERATED ALWAYS. Every job counts its updates in a column of its own ({@code n = n + 1}), so a
 * row updated twice or missed shows.
 */
class KeysTest extends OnEmbeddedPostgres {

    private static final int ROWS = 3_000;
    private static final int BATCH = 170;

    @Test
    void aUuidKey() {
        SharedPostgres.exec("DROP TABLE IF EXISTS k_uuid",
                "CREATE TABLE k_uuid (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), n int NOT NULL DEFAULT 0)",
                "INSERT INTO k_uuid SELECT FROM generate_series(1, " + ROWS + ")");
        everyRowOnce("k_uuid");
        addedTheSafeWay("k_uuid");
    }

    @Test
    void aTextKeyInANonCCollationIsWalkedInThatCollationsOrder() {
        String collation = SharedPostgres.text("SELECT collname FROM pg_collation WHERE collname IN"
                + " ('en-x-icu', 'und-x-icu', 'en_US.utf8', 'en_US') ORDER BY collname LIMIT 1");
        String collate = collation == null ? "" : " COLLATE \"" + collation + "\"";
        SharedPostgres.exec("DROP TABLE IF EXISTS k_text",
                "CREATE TABLE k_text (code text" + collate + " PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                // Upper and lower case, digits and punctuation: C orders them otherwise than a language does.
                "INSERT INTO k_text (code) SELECT CASE WHEN g % 3 = 0 THEN upper(md5(g::text)) WHEN g % 3 = 1"
                        + " THEN md5(g::text) ELSE '-' || md5(g::text) END FROM generate_series(1, " + ROWS + ") g");
        if (collation != null) {
            assertThat(SharedPostgres.number("SELECT count(*) FROM (SELECT code, row_number() OVER (ORDER BY code) a,"
                    + " row_number() OVER (ORDER BY code COLLATE \"C\") b FROM k_text) x WHERE a <> b"))
                    .as("rows the collation orders otherwise than C").isPositive();
        }
        everyRowOnce("k_text");
        addedTheSafeWay("k_text");
    }

    @Test
    void aCompositeKey() {
        SharedPostgres.exec("DROP TABLE IF EXISTS k_comp",
                "CREATE TABLE k_comp (tenant int, code text, n int NOT NULL DEFAULT 0, PRIMARY KEY (tenant, code))",
                // Few tenants, many codes each: a batch ends inside a tenant, so the row comparison matters.
                "INSERT INTO k_comp (tenant, code) SELECT g % 7, md5(g::text) FROM generate_series(1, " + ROWS + ") g");
        everyRowOnce("k_comp");
        addedTheSafeWay("k_comp");
    }

    @Test
    void aSetThatMovesTheWalkedKeyIsRefusedAndLeavesEveryRow() {
        SharedPostgres.exec("DROP TABLE IF EXISTS k_moves",
                "CREATE TABLE k_moves (id int PRIMARY KEY, n int NOT NULL)",
                "INSERT INTO k_moves SELECT g, g FROM generate_series(1000, 2000) g",
                "DROP TABLE IF EXISTS k_moves_part",
                "CREATE TABLE k_moves_part (id int, d date, n int NOT NULL DEFAULT 0, PRIMARY KEY (id, d))"
                        + " PARTITION BY RANGE (d)",
                "CREATE TABLE k_moves_part_a PARTITION OF k_moves_part FOR VALUES FROM ('2000-01-01') TO ('2100-01-01')",
                "INSERT INTO k_moves_part SELECT g, date '2020-01-01' + g % 50, 0 FROM generate_series(1, 600) g");
        ObjectNode refused = node.send("""
                {"type":"migrate_data","table":"k_moves","batch_size":1,"set":{"id":"id+1","n":"n+1"}}""");
        assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(22);
        assertThat(refused.get("text").asText()).contains("met again").contains("new column");
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_moves WHERE id <> n")).isZero();
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_moves")).isEqualTo(1001);
        ObjectNode partitioned = node.send("""
                {"type":"migrate_data","table":"k_moves_part","batch_size":7,"set":{"d":"d + 366","n":"n+1"}}""");
        assertThat(partitioned.get("code").asInt()).as(partitioned.toString()).isEqualTo(22);
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_moves_part WHERE n <> 0 OR d > date '2020-03-01'")).isZero();
    }

    @Test
    void aUniqueNotNullColumnWithoutAPrimaryKey() {
        SharedPostgres.exec("DROP TABLE IF EXISTS k_unique",
                "CREATE TABLE k_unique (nick text UNIQUE, email text NOT NULL, n int NOT NULL DEFAULT 0)",
                "CREATE UNIQUE INDEX k_unique_email ON k_unique (email)",
                "INSERT INTO k_unique (nick, email) SELECT CASE WHEN g % 2 = 0 THEN 'n' || g END, 'u' || g || '@example.com'"
                        + " FROM generate_series(1, " + ROWS + ") g");
        ObjectNode explained = node.send("""
                {"type":"migrate_data","table":"k_unique","batch_size":100,"total_rows":0,"explain":true}""");
        assertThat(explained.get("steps").get(0).get("sql").asText()).as(explained.toString())
                .contains("ORDER BY \"email\" LIMIT ?");
        everyRowOnce("k_unique");
        addedTheSafeWay("k_unique");
    }

    /**
     * A job stopped mid-way along one key, resent after the table got another (a primary key where it
     * walked a unique column): its position means nothing along the new key, and its SET is not
     * idempotent, so it is refused rather than run over rows it did; a finished job still answers.
     */
    @Test
    void aJobStoppedAlongOneKeyIsNotResumedAlongAnother() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS k_rekeyed",
                "CREATE TABLE k_rekeyed (id bigint NOT NULL, email text NOT NULL UNIQUE, n int NOT NULL DEFAULT 0)",
                "INSERT INTO k_rekeyed (id, email) SELECT 20001 - g, 'u' || g FROM generate_series(1, 20000) g");
        String request = """
                {"type":"migrate_data","table":"k_rekeyed","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":20}""";
        var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> node.send(request));
        while (SharedPostgres.number("SELECT coalesce(max(rows_done), 0) FROM zdm.checkpoints"
                + " JOIN zdm.operations o ON o.id = operation_id WHERE o.table_name = 'k_rekeyed'") < 2_000) {
            Thread.sleep(5);
        }
        SharedPostgres.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'zdm-migration'");
        assertThat(first.get().get("code").asInt()).isEqualTo(13);
        long done = SharedPostgres.number("SELECT count(*) FROM k_rekeyed WHERE n = 1");
        SharedPostgres.exec("ALTER TABLE k_rekeyed ADD PRIMARY KEY (id)");

        ObjectNode resent = node.send(request);

        assertThat(resent.get("code").asInt()).as(resent.toString()).isEqualTo(22);
        assertThat(resent.get("text").asText()).contains("k_rekeyed_email_key email").contains("k_rekeyed_pkey id");
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_rekeyed WHERE n = 1")).isEqualTo(done);
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_rekeyed WHERE n > 1")).isZero();
    }

    @Test
    void noKeyAtAll() {
        SharedPostgres.exec("DROP TABLE IF EXISTS k_none",
                "CREATE TABLE k_none (v int, n int NOT NULL DEFAULT 0)",
                "INSERT INTO k_none (v) SELECT g % 10 FROM generate_series(1, " + ROWS + ") g");
        ObjectNode refused = node.send("""
                {"type":"migrate_data","table":"k_none","batch_size":100,"set":{"n":"n + 1"}}""");
        assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(22);
        assertThat(refused.get("text").asText()).contains("no primary key").contains("add a primary key");
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_none WHERE n <> 0")).isZero();

        ObjectNode explained = node.send("""
                {"type":"add_column","table":"k_none","column":"token","data_type":"float8","default_sql":"random()",
                 "nullable":false,"explain":true}""");
        assertThat(explained.get("type").asText()).as(explained.toString()).isEqualTo("column_added");
        assertThat(explained.get("steps").get(1).get("sql").asText()).contains("ctid >= ?::tid AND ctid < ?::tid");
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_none WHERE token IS NULL")).isZero();
        assertThat(SharedPostgres.number("SELECT count(DISTINCT token) FROM k_none")).as("one random() per row").isEqualTo(ROWS);
        assertThat(explained.get("table_rewritten").asBoolean()).isFalse();
    }

    /**
     * Without a key the fill walks blocks; an application UPDATE meanwhile writes a row's new version, its
     * NULL kept, into another block, often one the walk has passed or beyond the end it read. The walk
     * goes round again until a pass finds no NULL, so NOT NULL holds at the end.
     */
    @Test
    void noKeyAndTheApplicationMovesRowsBehindTheWalk() throws Exception {
        int rows = 20_000;
        SharedPostgres.exec("DROP TABLE IF EXISTS k_moved",
                "CREATE TABLE k_moved (v int, w int NOT NULL DEFAULT 0)",
                "INSERT INTO k_moved (v) SELECT g FROM generate_series(1, " + rows + ") g");
        AtomicBoolean updating = new AtomicBoolean(true);
        AtomicLong updated = new AtomicLong();
        Thread application = new Thread(() -> {
            try (Connection c = SharedPostgres.connect();
                 var ps = c.prepareStatement("UPDATE k_moved SET w = w + 1 WHERE v = ?")) {
                java.util.Random random = new java.util.Random(7);
                while (updating.get()) {
                    ps.setInt(1, 1 + random.nextInt(rows));
                    updated.addAndGet(ps.executeUpdate());
                }
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        application.start();
        ObjectNode reply;
        try {
            while (updated.get() < 20) {
                Thread.sleep(5);
            }
            reply = node.send("""
                    {"type":"add_column","table":"k_moved","column":"token","data_type":"float8","default_sql":"random()",
                     "nullable":false,"sleep_ms":20}""");
        } finally {
            updating.set(false);
            application.join();
        }
        assertThat(reply.get("type").asText()).as(reply + " with " + updated.get() + " application updates").isEqualTo("column_added");
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_moved WHERE token IS NULL")).isZero();
        assertThat(updated.get()).as("application updates while the job ran").isGreaterThan(20);
    }

    @Test
    void anIdentityKeyGeneratedAlwaysIsNotWhatATouchSets() {
        SharedPostgres.exec("DROP TABLE IF EXISTS k_ident",
                "CREATE TABLE k_ident (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int,"
                        + " twice int GENERATED ALWAYS AS (v * 2) STORED, touched int NOT NULL DEFAULT 0)",
                "CREATE OR REPLACE FUNCTION k_ident_touch() RETURNS trigger LANGUAGE plpgsql AS"
                        + " $$BEGIN NEW.touched := OLD.touched + 1; RETURN NEW; END$$",
                "CREATE TRIGGER k_ident_touch BEFORE UPDATE ON k_ident FOR EACH ROW EXECUTE FUNCTION k_ident_touch()",
                "INSERT INTO k_ident (v) SELECT g FROM generate_series(1, " + ROWS + ") g");

        ObjectNode touched = node.send("""
                {"type":"migrate_data","table":"k_ident","batch_size":%d}""".formatted(BATCH));
        assertThat(touched.get("type").asText()).as(touched.toString()).isEqualTo("data_migrated");
        assertThat(touched.get("total_rows").asLong()).isEqualTo(ROWS);
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_ident WHERE touched <> 1")).isZero();

        for (String column : new String[] {"id", "twice"}) {
            ObjectNode refused = node.send("""
                    {"type":"migrate_data","table":"k_ident","batch_size":100,"set":{"%s":"1"}}""".formatted(column));
            assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(12);
            assertThat(refused.get("text").asText()).contains("only to DEFAULT");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM k_ident WHERE touched <> 1")).isZero();
    }

    /**
     * The simulator, given the schema --schema-from reads, plans the very statements the engine runs:
     * the same key, the same casts, the same block walk, the same refusals.
     */
    @Test
    void theSimulatorPlansTheSameBatchSqlAsTheEngine() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS k_same_comp, k_same_none, k_same_ident",
                "CREATE TABLE k_same_comp (tenant int, code varchar(40), at timestamptz, n int, PRIMARY KEY (tenant, code, at))",
                "CREATE TABLE k_same_none (v int, n int)",
                "CREATE TABLE k_same_ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int, w int GENERATED ALWAYS AS (v + 1) STORED)",
                "INSERT INTO k_same_comp VALUES (1, 'a', now(), 0)", "INSERT INTO k_same_none VALUES (1, 0)",
                "INSERT INTO k_same_ident (v) VALUES (1)");
        Schema schema;
        try (Connection c = SharedPostgres.connect()) {
            schema = CatalogReader.read(c, line -> { });
        }
        Planner real = new Planner(engine.version(), engine.catalog());
        Planner simulated = new Planner(engine.version(), SimCatalog.of(schema, engine.version()));
        int compared = 0;
        for (String table : List.of("k_same_comp", "k_same_none", "k_same_ident")) {
            SqlName t = SqlName.of(table);
            List<Planner.MigrationSpec> jobs = List.of(
                    new Planner.MigrationSpec(t, Map.of(), null, 100, null, 0),
                    new Planner.MigrationSpec(t, Map.of(SqlName.of("n"), new SqlExpression("n + 1")), null, 100, null, 0),
                    new Planner.MigrationSpec(t, Map.of(SqlName.of("v"), new SqlExpression("1")), null, 100, null, 0),
                    new Planner.MigrationSpec(t, Map.of(SqlName.of(table.equals("k_same_ident") ? "w" : "v"),
                            new SqlExpression("2")), null, 100, null, 0));
            for (Planner.MigrationSpec job : jobs) {
                assertThat(outcome(() -> simulated.migrateData(job))).as(table + " " + job)
                        .isEqualTo(outcome(() -> real.migrateData(job)));
                compared++;
            }
            var column = new Planner.ColumnSpec(t, SqlName.of("token"), DataType.of("float8"),
                    new ColumnDefault.Expression(new SqlExpression("random()"), true), false, true);
            assertThat(outcome(() -> simulated.addColumn(column))).as(table).isEqualTo(outcome(() -> real.addColumn(column)));
        }
        assertThat(outcome(() -> real.migrateData(new Planner.MigrationSpec(SqlName.of("k_same_comp"), Map.of(), null,
                100, null, 0)))).contains("(\"tenant\", \"code\", \"at\") > (?::integer, ?::character varying(40),"
                + " ?::timestamp with time zone)").doesNotContain("max(");
        assertThat(compared).isEqualTo(12);
    }

    /** A plan's statements, or the error code and text the planner answers. */
    private static String outcome(java.util.function.Supplier<Plan> plan) {
        try {
            return plan.get().steps().stream().map(Step::sql).toList().toString();
        } catch (ZdmException e) {
            return e.code().code() + " " + e.getMessage();
        }
    }

    /** migrate_data n = n + 1 in small batches: every row once, in the batches the size says. */
    private static void everyRowOnce(String table) {
        ObjectNode reply = node.send("""
                {"type":"migrate_data","table":"%s","batch_size":%d,"set":{"n":"n + 1"}}""".formatted(table, BATCH));
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("data_migrated");
        assertThat(reply.get("total_rows").asLong()).isEqualTo(ROWS);
        assertThat(reply.get("batches").asInt()).isEqualTo((ROWS + BATCH - 1) / BATCH);
        assertThat(SharedPostgres.number("SELECT count(*) FROM " + table + " WHERE n <> 1")).as(table).isZero();
    }

    /** A volatile default, NOT NULL: the safe way, its backfill along the key; one value per row. */
    private static void addedTheSafeWay(String table) {
        ObjectNode reply = node.send("""
                {"type":"add_column","table":"%s","column":"token","data_type":"float8","default_sql":"random()",
                 "nullable":false}""".formatted(table));
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
        assertThat(reply.get("table_rewritten").asBoolean()).isFalse();
        assertThat(SharedPostgres.number("SELECT count(*) FROM " + table + " WHERE token IS NULL")).isZero();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = '" + table
                + "'::regclass AND attname = 'token' AND attnotnull")).isEqualTo(1);
    }
}
