package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * serial (a nextval() default) and a domain with a volatile default would rewrite the table under
 * ACCESS EXCLUSIVE when added in one ALTER (issue 7, item 6); zdm spells them out the safe way, and
 * the table keeps its heap file while every old row gets its value.
 */
class SerialAndDomainTest extends OnEmbeddedPostgres {

    static final int ROWS = 3_000;

    static long relfilenode(String table) {
        return SharedPostgres.number("SELECT relfilenode FROM pg_class WHERE oid = '" + table + "'::regclass");
    }

    static List<String> steps(ObjectNode reply) {
        List<String> sql = new ArrayList<>();
        for (JsonNode step : reply.get("steps")) {
            sql.add(step.get("sql").asText());
        }
        return sql;
    }

    @Test
    void serialIsAddedWithoutARewriteAndNumbersEveryRow() {
        SharedPostgres.table("ser", ROWS);
        long before = relfilenode("ser");

        ObjectNode reply = node.send("""
                {"type":"add_column","table":"ser","column":"seq_no","data_type":"serial","explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
        assertThat(reply.get("table_rewritten").asBoolean()).isFalse();
        assertThat(relfilenode("ser")).isEqualTo(before);
        assertThat(SharedPostgres.number("SELECT count(*) FROM ser WHERE seq_no IS NULL")).isZero();
        assertThat(SharedPostgres.number("SELECT count(DISTINCT seq_no) FROM ser")).isEqualTo(ROWS);
        // What serial means, as the server has it: integer, NOT NULL, nextval() of a sequence the column owns.
        assertThat(SharedPostgres.text("SELECT format_type(atttypid, atttypmod) || ' ' || attnotnull FROM pg_attribute "
                + "WHERE attrelid = 'ser'::regclass AND attname = 'seq_no'")).isEqualTo("integer true");
        assertThat(SharedPostgres.text("SELECT pg_get_serial_sequence('ser', 'seq_no')")).isEqualTo("public.ser_seq_no_seq");
        SharedPostgres.exec("INSERT INTO ser (email, name) VALUES ('x', 'y')");
        assertThat(SharedPostgres.number("SELECT max(seq_no) FROM ser")).isEqualTo(ROWS + 1);
        assertThat(steps(reply).get(0)).startsWith("CREATE SEQUENCE \"ser_seq_no_seq\" AS integer;")
                .contains("SET DEFAULT (nextval('\"ser_seq_no_seq\"'::regclass))", "OWNED BY \"ser\".\"seq_no\"");
        assertThat(steps(reply).get(1)).contains("SET \"seq_no\" = (nextval(");
    }

    @Test
    void bigserialTheUnsafeWayIsSeenRewriting() {
        SharedPostgres.table("ser_unsafe", ROWS);
        long before = relfilenode("ser_unsafe");

        ObjectNode reply = node.send("""
                {"type":"add_column","table":"ser_unsafe","column":"seq_no","data_type":"bigserial","safe":false}""");

        assertThat(reply.get("table_rewritten").asBoolean()).as(reply.toString()).isTrue();
        assertThat(relfilenode("ser_unsafe")).isNotEqualTo(before);
    }

    @Test
    void aDomainWithAVolatileDefaultIsAddedWithoutARewriteAndFillsEveryRow() {
        SharedPostgres.table("dom", ROWS);
        SharedPostgres.exec("CREATE DOMAIN zdm_test_uid AS uuid DEFAULT gen_random_uuid()");
        long before = relfilenode("dom");

        ObjectNode reply = node.send("""
                {"type":"add_column","table":"dom","column":"uid","data_type":"zdm_test_uid","nullable":false,"explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
        assertThat(reply.get("table_rewritten").asBoolean()).isFalse();
        assertThat(relfilenode("dom")).isEqualTo(before);
        assertThat(SharedPostgres.number("SELECT count(DISTINCT uid) FROM dom WHERE uid IS NOT NULL")).isEqualTo(ROWS);
        // The column keeps no default of its own: new rows take the domain's, as after a plain ADD COLUMN.
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
                + "WHERE d.adrelid = 'dom'::regclass AND a.attname = 'uid'")).isZero();
        SharedPostgres.exec("INSERT INTO dom (email, name) VALUES ('x', 'y')");
        assertThat(SharedPostgres.number("SELECT count(*) FROM dom WHERE uid IS NULL")).isZero();
        List<String> steps = steps(reply);
        assertThat(steps.get(0)).contains("zdm_test_uid DEFAULT NULL",
                "SET DEFAULT (gen_random_uuid())");
        assertThat(steps.get(steps.size() - 1)).endsWith("DROP DEFAULT");
    }

    @Test
    void aDomainWithAConstraintHasNoSafeWayAndIsRefused() {
        SharedPostgres.table("dom_checked", ROWS);
        SharedPostgres.exec("CREATE DOMAIN zdm_test_positive AS integer DEFAULT 1 CHECK (VALUE > 0)");
        long before = relfilenode("dom_checked");

        ObjectNode reply = node.send("""
                {"type":"add_column","table":"dom_checked","column":"p","data_type":"zdm_test_positive"}""");

        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(22);
        assertThat(reply.get("text").asText()).contains("has constraints", "rewriting");
        assertThat(relfilenode("dom_checked")).isEqualTo(before);
        // With a default of its own it rewrites just the same (the CHECK runs on every row): refused too.
        ObjectNode given = node.send("""
                {"type":"add_column","table":"dom_checked","column":"p","data_type":"zdm_test_positive","default":5}""");
        assertThat(given.get("code").asInt()).as(given.toString()).isEqualTo(22);
        // A domain over it carries its CHECK (the typcache checks the chain): refused, nothing rewritten.
        SharedPostgres.exec("CREATE DOMAIN zdm_test_positive_too AS zdm_test_positive");
        ObjectNode derived = node.send("""
                {"type":"add_column","table":"dom_checked","column":"p","data_type":"zdm_test_positive_too"}""");
        assertThat(derived.get("code").asInt()).as(derived.toString()).isEqualTo(22);
        assertThat(relfilenode("dom_checked")).isEqualTo(before);
    }
}
