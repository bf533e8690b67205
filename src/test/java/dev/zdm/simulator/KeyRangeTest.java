package dev.zdm.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KeyRangeTest {

    static final SqlName ID = SqlName.of("id");

    static Long rowsOf(String where, long tableRows) {
        KeyRange range = KeyRange.of(new SqlExpression(where), ID);
        return range == null ? null : range.count(tableRows);
    }

    @ParameterizedTest(name = "{0} on 10,000 rows: {1}")
    @CsvSource(delimiter = '|', value = {
            "id <= 5000                                | 5000",
            "id < 5000                                 | 4999",
            "id > 9000                                 | 1000",
            "id >= 9000                                | 1001",
            "id = 7                                    | 1",
            "5000 >= id                                | 5000",
            "id BETWEEN 1001 AND 3000                  | 2000",
            "id between 1001 and 3000 and id <= 2000   | 1000",
            "(id > 100) AND (id <= 200)                | 100",
            "\"id\" > 9990                             | 10",
            "id > 20000                                | 0",
            "id <= 0                                   | 0",
            "id > 5000 AND id < 4000                   | 0",
            "id BETWEEN -5 AND 10                      | 10",
            "id < -9223372036854775808                 | 0",
            "id > 9223372036854775807                  | 0",
    })
    void keyComparisonsJoinedByAndAreARange(String where, long rows) {
        assertThat(rowsOf(where, 10_000)).isEqualTo(rows);
        assertThat(KeyRange.of(new SqlExpression(where), ID).rest()).isFalse();
    }

    @ParameterizedTest(name = "{0}: no range")
    @CsvSource(delimiter = '|', value = {
            "email IS NULL",
            "id < 5 OR id > 10",
            "NOT (id < 5 AND name IS NULL)",
            "id < other_id",
            "id::text = '5'",
            "user_id <= 5000",
    })
    void whatIsNotAboutTheKeyAloneIsNoRange(String where) {
        assertThat(KeyRange.of(new SqlExpression(where), ID)).isNull();
    }

    @ParameterizedTest(name = "{0}: a range with more conditions")
    @CsvSource(delimiter = '|', value = {
            "id <= 5000 AND email IS NOT NULL | 5000",
            "name <> 'x' AND id BETWEEN 1 AND 10 | 10",
    })
    void otherConditionsBesideTheRangeAreMarked(String where, long rows) {
        KeyRange range = KeyRange.of(new SqlExpression(where), ID);
        assertThat(range.count(10_000)).isEqualTo(rows);
        assertThat(range.rest()).isTrue();
    }
}
