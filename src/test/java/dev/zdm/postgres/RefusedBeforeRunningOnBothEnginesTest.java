package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.config.Config;
import dev.zdm.simulator.SimulatorEngine;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What PostgreSQL refuses (issue 13): the PostgreSQL engine and the simulator reading the same
 * database (--schema-from) answer each refusal with the same code, the engine before it runs
 * anything: the table is as it was and no operation is left in the ledger.
 */
class RefusedBeforeRunningOnBothEnginesTest extends OnEmbeddedPostgres {

    static Node simulator;

    @BeforeAll
    static void tablesOfMostTypes() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS refusal_t, refusal_wide",
                "DROP TYPE IF EXISTS refusal_mood", "DROP DOMAIN IF EXISTS refusal_pos", "DROP DOMAIN IF EXISTS refusal_code",
                "CREATE TYPE refusal_mood AS ENUM ('calm', 'busy')",
                "DROP SCHEMA IF EXISTS \"refusal hidden\" CASCADE", "CREATE SCHEMA \"refusal hidden\"",
                "CREATE TYPE \"refusal hidden\".hidden_mood AS ENUM ('calm')",
                "CREATE DOMAIN refusal_pos AS int CHECK (VALUE > 0)",
                "CREATE DOMAIN refusal_code AS varchar(3) CHECK (VALUE <> 'zzz')",
                "CREATE TABLE refusal_t (id bigint PRIMARY KEY, n int, note varchar(3), doc xml, at point,"
                        + " price numeric(5,2), CONSTRAINT refusal_t_late_not_null CHECK (n > 0))",
                "INSERT INTO refusal_t SELECT g, g, 'abc', NULL, NULL, 1 FROM generate_series(1, 200) g",
                "CREATE TABLE refusal_wide (id bigint PRIMARY KEY, "
                        + IntStream.rangeClosed(1, 33).mapToObj(i -> "c" + i + " int").collect(Collectors.joining(", ")) + ")");
        String url = "postgres://postgres@localhost:" + SharedPostgres.port() + "/postgres";
        simulator = new Node(SimulatorEngine.open(Config.parse("--schema-from", url)), BUDGET);
    }

    static String state() {
        return SharedPostgres.text("SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)"
                + " || ' ' || (SELECT relfilenode FROM pg_class WHERE oid = 'refusal_t'::regclass)"
                + " || ' ' || (SELECT count(*) FROM zdm.operations)"
                + " || ' ' || (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM refusal_t t)"
                + " FROM pg_attribute WHERE attrelid = 'refusal_t'::regclass AND attnum > 0");
    }

    static int code(ObjectNode reply) {
        return reply.has("code") ? reply.get("code").asInt() : 0;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // constants that do not fit their type: 22001, 22003, 22P02; a JSON boolean for an integer: 42804
            """
            {"type":"add_column","table":"refusal_t","column":"c1","data_type":"varchar(3)","default":"abcdef"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c2","data_type":"numeric(5,2)","default":1000}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c3","data_type":"int[]","default":"{1,2"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c4","data_type":"int","default":"abc"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c5","data_type":"smallint","default":40000}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c6","data_type":"boolean","default":"maybe"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c7","data_type":"int","default":true}""",
            // only the type's input function can tell: the engine asks its server, the simulator the one it read
            """
            {"type":"add_column","table":"refusal_t","column":"c101","data_type":"inet","default":"not-an-ip"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c102","data_type":"uuid","default":"x"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c103","data_type":"refusal_mood","default":"angry"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c104","data_type":"refusal_pos","default":-1,"safe":false}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c105","data_type":"jsonb","default":"{nope"}""",
            // a domain over varchar(3): a cast would cut the text to fit, the DEFAULT's assignment refuses it (22001)
            """
            {"type":"add_column","table":"refusal_t","column":"c106","data_type":"refusal_code","default":"toolong"}""",
            """
            {"type":"set_default","table":"refusal_t","column":"n","default":"ten"}""",
            // DEFAULT expressions: a column, a subquery (0A000), an aggregate (42803), a window (42P20), a set (0A000)
            """
            {"type":"add_column","table":"refusal_t","column":"c8","data_type":"int","default_sql":"n + 1"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c9","data_type":"int","default_sql":"refusal_t.n"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c10","data_type":"int","default_sql":"(SELECT 1)"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c11","data_type":"int","default_sql":"count(*)"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c12","data_type":"int","default_sql":"row_number() OVER ()"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"c13","data_type":"int","default_sql":"generate_series(1, 2)"}""",
            // a system column's name (42701)
            """
            {"type":"add_column","table":"refusal_t","column":"xmin","data_type":"int"}""",
            """
            {"type":"add_column","table":"refusal_t","column":"ctid","data_type":"int","default_sql":"random()"}""",
            // no btree operator class (42704)
            """
            {"type":"create_index","table":"refusal_t","column":"doc"}""",
            """
            {"type":"create_index","table":"refusal_t","column":"at","concurrently":false}""",
            // set and where naming a column the table lacks (42703), or what an UPDATE cannot hold
            """
            {"type":"migrate_data","table":"refusal_t","batch_size":50,"set":{"n":"nope + 1"}}""",
            """
            {"type":"migrate_data","table":"refusal_t","batch_size":50,"set":{"n":"n + 1"},"where":"missing_column > 1"}""",
            """
            {"type":"migrate_data","table":"refusal_t","batch_size":50,"set":{"n":"count(*)"}}""",
            """
            {"type":"migrate_data","table":"refusal_t","batch_size":50,"set":{"note":"'abcdef'"}}""",
            """
            {"type":"set_default","table":"refusal_t","column":"note","default":"abcdef"}""",
            """
            {"type":"set_default","table":"refusal_t","column":"n","default_sql":"id * 2"}"""})
    void bothEnginesRefuseWithTheServersCodeAndTheEngineRunsNothing(String request) {
        String before = state();

        ObjectNode real = node.send(request);
        ObjectNode predicted = simulator.send(request);

        assertThat(code(real)).as(real.toString()).isIn(12, 20, 21, 22);
        assertThat(code(predicted)).as("simulator " + predicted + " / engine " + real).isEqualTo(code(real));
        assertThat(real.get("text").asText()).as("refused by the planner, not by running").contains("SQLSTATE");
        assertThat(state()).isEqualTo(before);
    }

    @Test
    void aTypeTheSearchPathDoesNotReachIsFoundByItsQualifiedNameOnly() {
        String bare = """
                {"type":"add_column","table":"refusal_t","column":"h1","data_type":"hidden_mood"}""";
        ObjectNode real = node.send(bare);
        assertThat(code(real)).as(real.toString()).isEqualTo(20);
        assertThat(code(simulator.send(bare))).isEqualTo(20);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'refusal_t'::regclass"
                + " AND attname = 'h1' AND NOT attisdropped")).isZero();
        ObjectNode qualified = simulator.send("""
                {"type":"add_column","table":"refusal_t","column":"h1","data_type":"\\"refusal hidden\\".hidden_mood","plan":true}""");
        assertThat(qualified.get("type").asText()).as(qualified.toString()).isEqualTo("planned");
    }

    @Test
    void anIndexOfMoreThan32ColumnsIsRefusedByBoth() {
        String columns = IntStream.rangeClosed(1, 33).mapToObj(i -> "\"c" + i + "\"").collect(Collectors.joining(","));
        String request = """
                {"type":"create_index","table":"refusal_wide","columns":[%s]}""".formatted(columns);
        ObjectNode real = node.send(request);
        assertThat(code(real)).as(real.toString()).isEqualTo(22);
        assertThat(code(simulator.send(request))).isEqualTo(22);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indrelid = 'refusal_wide'::regclass")).isEqualTo(1);
    }

    @Test
    void aTypeWithAModifierBeforeWithTimeZoneIsAColumnTypeOnBoth() {
        for (String type : new String[] {"timestamp(3) with time zone", "time(6) without time zone",
                "character varying(10)[]", "double precision[]", "bit varying(5)", "interval day to second(3)",
                "pg_catalog.int4", "\"char\""}) {
            String column = "t_" + type.replaceAll("[^a-z0-9]", "");
            String request = """
                    {"type":"add_column","table":"refusal_t","column":"%s","data_type":"%s"}""".formatted(column,
                    type.replace("\"", "\\\""));
            ObjectNode predicted = simulator.send(request);
            ObjectNode real = node.send(request);
            assertThat(real.get("type").asText()).as(type + ": " + real).isEqualTo("column_added");
            assertThat(predicted.get("type").asText()).as(type + ": " + predicted).isEqualTo("column_added");
            assertThat(SharedPostgres.text("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid ="
                    + " 'refusal_t'::regclass AND attname = '" + column + "'")).isNotNull();
            SharedPostgres.exec("ALTER TABLE refusal_t DROP COLUMN " + column);
        }
    }

    @Test
    void theSafeWaysNotNullCheckTakesAFreeNameWhereTheUsualOneIsTaken() {
        String request = """
                {"type":"add_column","table":"refusal_t","column":"late","data_type":"timestamptz",
                 "default_sql":"clock_timestamp()","nullable":false,"explain":true}""";
        ObjectNode predicted = simulator.send(request);
        ObjectNode real = node.send(request);

        assertThat(real.get("type").asText()).as(real.toString()).isEqualTo("column_added");
        assertThat(predicted.get("type").asText()).as(predicted.toString()).isEqualTo("column_added");
        assertThat(real.get("steps").toString()).contains("refusal_t_late_not_null1");
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'refusal_t'::regclass"
                + " AND attname = 'late'")).isEqualTo("true");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conname = 'refusal_t_late_not_null'"))
                .as("the user's check is untouched").isEqualTo(1);
        SharedPostgres.exec("ALTER TABLE refusal_t DROP COLUMN late");
    }

    @Test
    void aTableWhoseDroppedColumnsUsedUpItsAttributeNumbersIsRefusedBeforeRunning() {
        SharedPostgres.exec("DROP TABLE IF EXISTS refusal_full", "CREATE TABLE refusal_full (id bigint PRIMARY KEY)",
                "DO $$ BEGIN FOR i IN 2..1600 LOOP EXECUTE format('ALTER TABLE refusal_full ADD COLUMN c%s int', i);"
                        + " EXECUTE format('ALTER TABLE refusal_full DROP COLUMN c%s', i); END LOOP; END $$");
        long operations = SharedPostgres.number("SELECT count(*) FROM zdm.operations");

        ObjectNode real = node.send("""
                {"type":"add_column","table":"refusal_full","column":"one_more","data_type":"int"}""");

        assertThat(code(real)).as(real.toString()).isEqualTo(22);
        assertThat(real.get("text").asText()).contains("1600", "54011");
        assertThat(SharedPostgres.number("SELECT count(*) FROM zdm.operations")).isEqualTo(operations);
    }
}
