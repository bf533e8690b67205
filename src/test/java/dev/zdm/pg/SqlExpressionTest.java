package dev.zdm.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.protocol.ZdmException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SqlExpressionTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "1; drop table users",
            "lower(email); drop table users",
            "1 -- and the rest is a comment",
            "1 /* comment */",
            "$1",
            "$$x$$",
            "1)",
            ") or (true",
            "lower(email",
            "((1)",
            "'unterminated",
            "\"unterminated",
            "'a' || 'b",
            "E'\\'x'; drop table users; --'",
            // Checked on PostgreSQL 15: inside the parentheses zdm writes, this ends the UPDATE and drops the table.
            "E'\\'x'); drop table users; --'",
            "'\\' ; drop table users; --'",
            // Quotes doubled and escaped in one E'...': the scan ends it where the server does and sees the ')' after.
            "E'it''s \\'') or true or (''",
            "\"a\\b\"",
            "U&'\\0041'",
            "U&'!0041' UESCAPE '!'",
            "U&\"!0073et_config\" UESCAPE '!'('lock_timeout', '0', false)",
            "1E'\\'' || 'x'",
            "   ",
            ""})
    void hostileOrBrokenExpressionsAreError12(String text) {
        assertThatThrownBy(() -> new SqlExpression(text))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12));
    }

    @Test
    void nullAndOverlongAreError12() {
        assertThatThrownBy(() -> new SqlExpression(null))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12));
        String longest = "1" + " + 1".repeat((SqlExpression.MAX_LENGTH - 1) / 4);
        assertThat(new SqlExpression(longest).text()).hasSizeLessThanOrEqualTo(SqlExpression.MAX_LENGTH);
        assertThatThrownBy(() -> new SqlExpression("1".repeat(SqlExpression.MAX_LENGTH + 1)))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "'a;b'",
            "'a -- b'",
            "'/* not a comment */'",
            "'it''s'",
            "'(('",
            "lower(email)",
            "coalesce(name, 'n/a')",
            "email IS NULL",
            "id % 2 = 0 AND name <> 'x'",
            "now() - interval '1 day'",
            "\"name\" || '-'",
            "10 / 2",
            "'$1'",
            "gen_random_uuid()",
            "E'\\\\'",
            "E'it\\'s' || e'a\\\\b'",
            "E'it''s \\\\'",
            "date'2020-01-01'",
            "'a\nb'"})
    void legitimateExpressionsAreAccepted(String text) {
        SqlExpression expression = new SqlExpression(text);
        assertThat(expression.text()).isEqualTo(text);
        assertThat(expression.sql()).isEqualTo("(" + text + ")");
    }

    @Test
    void functionNamesAreThoseCalledOutsideStringLiterals() {
        assertThat(new SqlExpression("lower(email)").functionNames()).containsExactly("lower");
        assertThat(new SqlExpression("COALESCE(Upper (name), 'random()')").functionNames())
                .containsExactly("coalesce", "upper");
        assertThat(new SqlExpression("pg_catalog.random() * 10").functionNames()).containsExactly("random");
        assertThat(new SqlExpression("'clock_timestamp()'").functionNames()).isEmpty();
        assertThat(new SqlExpression("email IS NULL").functionNames()).isEmpty();
        assertThat(new SqlExpression("md5(random()::text) || md5(random()::text)").functionNames())
                .containsExactly("md5", "random");
    }

    @Test
    void aQuotedFunctionNameIsStillACall() {
        // "random"() calls random() just as well; the simulator must see it to know the default is volatile.
        assertThat(new SqlExpression("\"random\"()").functionNames()).containsExactly("random");
    }

    @Test
    void theSequencesANextvalNamesAreReadAsTheServerFoldsThem() {
        assertThat(new SqlExpression("nextval('Orders_ID_seq')").sequencesNamed()).containsExactly(SqlName.of("orders_id_seq"));
        assertThat(new SqlExpression("NEXTVAL ( '\"users_n_seq\"'::regclass) + currval('x')").sequencesNamed())
                .containsExactly(SqlName.of("users_n_seq"), SqlName.of("x"));
        // Only the server can say what a qualified name means; a quoted one is exact, its "" one ".
        assertThat(new SqlExpression("nextval('public.s') + nextval('\"a\".\"b\"')").sequencesNamed()).isEmpty();
        assertThat(new SqlExpression("nextval('\"Mixed\"\"Q\"')").sequencesNamed()).containsExactly(SqlName.of("Mixed\"Q"));
        assertThat(new SqlExpression("'nextval' || lower('a')").sequencesNamed()).isEmpty();
        assertThat(new SqlExpression("nextval('s'::text)").sequencesNamed()).as("resolved when evaluated").isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "set_config('lock_timeout', '0', false)",
            "n + length(set_config('statement_timeout', '0', false))",
            "SET_CONFIG ('lock_timeout', '0', false)",
            "pg_catalog.set_config('lock_timeout', '0', false)",
            "\"pg_catalog\".\"set_config\"('lock_timeout', '0', false)",
            "E'\\'' || set_config('lock_timeout', '0', false) || ''",
            "pg_advisory_lock(1) IS NULL",
            "pg_try_advisory_xact_lock(1)",
            "pg_terminate_backend(123)",
            "pg_cancel_backend(pid)",
            "pg_reload_conf()",
            "pg_rotate_logfile()",
            "pg_switch_wal()::text",
            "pg_create_physical_replication_slot('s')",
            "dblink('dbname=other', 'select 1')",
            "pg_notify('c', 'x')",
            "lo_import('/etc/passwd')",
            "lo_export(1, '/tmp/x')",
            "pg_read_file('postgresql.conf')",
            "pg_read_binary_file('x')",
            "pg_ls_dir('.')",
            "pg_sleep(10) IS NULL",
            "pg_sleep_for('1 s')",
            "query_to_xml('select set_config(''lock_timeout'', ''0'', false)', true, true, '')",
            "(select count(*) from ts_stat('select set_config(''lock_timeout'', ''0'', false)::tsvector'))",
            "setval('orders_id_seq', 1)"})
    void functionsThatActBeyondTheValueAreError12(String text) {
        assertThatThrownBy(() -> new SqlExpression(text))
                .isInstanceOfSatisfying(ZdmException.class, e -> {
                    assertThat(e.code().code()).isEqualTo(12);
                    assertThat(e.getMessage()).contains("may not call");
                });
    }

    @Test
    void aRefusedNameInsideALiteralOrAsAColumnIsNoCall() {
        assertThat(new SqlExpression("'set_config(1)' || pg_sleep_column").functionNames()).isEmpty();
        assertThat(new SqlExpression("E'\\' pg_sleep(1)'").functionNames()).isEmpty();
        assertThat(new SqlExpression("my_set_config(1)").functionNames()).containsExactly("my_set_config");
    }

    @Test
    void everyLiteralSqlLiteralWritesIsOneStringToTheScan() {
        for (String value : new String[] {"active", "it's", "\\'; DROP TABLE victim; --", "a\\", "\\", "''\\''"}) {
            SqlExpression expression = new SqlExpression(SqlLiteral.of(value) + " || 'x'");
            assertThat(expression.functionNames()).as(value).isEmpty();
        }
    }
    @Test
    void relationsReadAreTheNamesAfterFromAndJoinOfASelect() {
        assertThat(new SqlExpression("(SELECT t FROM Plans p WHERE p.id = users.plan_id)").relationsRead())
                .containsExactly(SqlName.of("plans"));
        assertThat(new SqlExpression("id IN (SELECT a.id FROM \"Bil ling\".\"Odd\" a, b JOIN s.c ON true"
                + " LEFT JOIN LATERAL d x ON true, generate_series(1, 3) g, (SELECT 1 FROM e) f WHERE a.v = 'FROM z')")
                .relationsRead())
                .containsExactly(new SqlName("Bil ling", "Odd"), SqlName.of("b"), new SqlName("s", "c"), SqlName.of("d"),
                        SqlName.of("e"));
        // FROM inside a call means no relation; a WITH query's name is its own.
        assertThat(new SqlExpression("extract(year FROM ts) + length(substring(s FROM 2))").relationsRead()).isEmpty();
        assertThat(new SqlExpression("(WITH w AS (SELECT 1 AS v FROM real_one) SELECT v FROM w)").relationsRead())
                .containsExactly(SqlName.of("real_one"));
        assertThat(new SqlExpression("(SELECT max(v) FROM t2 WHERE a IS NOT DISTINCT FROM b AND c IS DISTINCT FROM d)")
                .relationsRead()).containsExactly(SqlName.of("t2"));
        assertThat(new SqlExpression("(SELECT extract(epoch FROM now()) FROM t1 GROUP BY a, b ORDER BY c, d)")
                .relationsRead()).containsExactly(SqlName.of("t1"));
    }
}
