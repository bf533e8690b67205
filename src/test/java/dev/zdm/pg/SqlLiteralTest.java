package dev.zdm.pg;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SqlLiteralTest {

    @Test
    void textWithoutABackslashIsAPlainLiteral() {
        assertThat(SqlLiteral.of("active")).isEqualTo("'active'");
        assertThat(SqlLiteral.of("it's")).isEqualTo("'it''s'");
        assertThat(SqlLiteral.of("")).isEqualTo("''");
        assertThat(SqlLiteral.of("{\"a\": 1}")).isEqualTo("'{\"a\": 1}'");
    }

    @Test
    void textWithABackslashIsAnEscapeStringReadTheSameUnderEverySetting() {
        // Under standard_conforming_strings = off, '\'' would end elsewhere; E'...' reads escapes under both.
        assertThat(SqlLiteral.of("\\'; DROP TABLE victim; --")).isEqualTo("E'\\\\''; DROP TABLE victim; --'");
        assertThat(SqlLiteral.of("C:\\dir")).isEqualTo("E'C:\\\\dir'");
        assertThat(SqlLiteral.of("\\")).isEqualTo("E'\\\\'");
    }
}
