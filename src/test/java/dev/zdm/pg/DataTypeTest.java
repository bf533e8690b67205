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
            "national character varying(10) | national character varying(10)",
            "timestamp(3) with time zone | timestamp(3) with time zone",
            "TIMESTAMP(3)  WITH TIME ZONE | timestamp(3) with time zone",
            "time(6) without time zone | time(6) without time zone",
            "character varying(10)[] | character varying(10)[]",
            "double precision[] | double precision[]",
            "interval day to second(3) | interval day to second(3)",
            "interval(2) | interval(2)",
            "pg_catalog.int4 | pg_catalog.int4",
            "public.Mood | public.mood",
            "\"char\" | \"char\"",
            "\"My Type\"[] | \"My Type\"[]",
            "app.\"Status\" | app.\"Status\"",
            "int array | int array",
            "int[3][] | int[3][]",
            "integer ARRAY[4] | integer array[4]"})
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
            "varchar(20",
            "varchar(20))",
            "numeric(10,2,3)",
            "int[][",
            "$1",
            "text collate \"C\"",
            "varchar(abc)",
            "one two three four five",
            "timestamp(3)(4)",
            "\"unterminated",
            "a.b.c.d",
            "int array array",
            "text[] collate x",
            "numeric(1,2,3)",
            "\"\"",
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

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "timestamp(3) with time zone | timestamp with time zone | 3 | false",
            "character varying(10)[] | character varying | 10 | true",
            "numeric(10, 2) | numeric | 10,2 | false",
            "interval day to second(3) | interval | 3 | false",
            "pg_catalog.int4 | int4 | '' | false",
            "text | text | '' | false"})
    void partsAreReadAsTheGrammarReadsThem(String input, String lookup, String modifiers, boolean array) {
        DataType type = DataType.of(input);
        assertThat(type.lookupName()).isEqualTo(lookup);
        assertThat(type.modifiers().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")))
                .isEqualTo(modifiers);
        assertThat(type.isArray()).isEqualTo(array);
    }

    @Test
    void textIsTheDefaultTypeConstant() {
        assertThat(DataType.TEXT.sql()).isEqualTo("text");
        assertThat(DataType.of("TEXT")).isEqualTo(DataType.TEXT);
    }
}
