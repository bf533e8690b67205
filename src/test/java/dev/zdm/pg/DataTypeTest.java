package dev.zdm.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.protocol.ZdmException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DataTypeTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "text | text",
            "varchar(20) | varchar(20)",
            "timestamp with time zone | timestamp with time zone",
            "TIMESTAMP   WITH TIME ZONE | timestamp with time zone",
            "numeric(10,2) | numeric(10,2)",
            "numeric(10, 2) | numeric(10, 2)",
            "int[] | int[]",
            "double precision | double precision",
            "character varying(255) | character varying(255)",
            "bigint | bigint",
            "jsonb | jsonb",
            "varchar(20)[] | varchar(20)[]",
            "timestamp without time zone | timestamp without time zone",
            "interval day to second | interval day to second",
            "bit varying(5) | bit varying(5)",
            "national character varying(10) | national character varying(10)"})
    void legitimateTypesAreAcceptedAndNormalised(String input, String sql) {
        assertThat(DataType.of(input).sql()).isEqualTo(sql);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "text; drop table users",
            "text default 'x'",
            "text not null",
            "text unique",
            "bigint primary key",
            "int references users",
            "text collate posix",
            "int generated always",
            "text -- comment",
            "text/*x*/",
            "\"text\"",
            "varchar(20",
            "varchar(20))",
            "numeric(10,2,3)",
            "int[][",
            "$1",
            "text collate \"C\"",
            "varchar(abc)",
            "one two three four five",
            ""})
    void anythingElseIsError12(String input) {
        assertThatThrownBy(() -> DataType.of(input))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12));
    }

    @Test
    void nullIsError12() {
        assertThatThrownBy(() -> DataType.of(null))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12));
    }

    @Test
    void textIsTheDefaultTypeConstant() {
        assertThat(DataType.TEXT.sql()).isEqualTo("text");
        assertThat(DataType.of("TEXT")).isEqualTo(DataType.TEXT);
    }
}
