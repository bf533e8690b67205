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
            "E'\\\\'",
            "E'\\'x'; drop table users; --'",
            // Checked on PostgreSQL 15: inside the parentheses zdm writes, this ends the UPDATE and drops the table.
            "E'\\'x'); drop table users; --'",
            "'\\' ; drop table users; --'",
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
            "gen_random_uuid()"})
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
        assertThat(new SqlExpression("setval('s', 5)").sequencesNamed()).containsExactly(SqlName.of("s"));
    }
}
