package dev.zdm.postgres.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.protocol.ZdmException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The reply each SQLSTATE class becomes (the table the README shows), and what a start-up failure says. */
class PgErrorsTest {

    @ParameterizedTest
    @CsvSource({
            "42P01, 20", "42703, 20", "42704, 20", "3F000, 20", "42883, 12",
            "42P07, 21", "42701, 21", "42710, 21", "42P06, 21",
            "42601, 12", "42804, 12", "42803, 12",
            "0A000, 22", "2BP01, 22", "42P16, 22", "42P17, 22", "42809, 22", "428C9, 22", "55000, 22",
            "42501, 22", "25006, 22", "57014, 22", "23505, 22", "53100, 22",
            "08006, 13", "57P01, 13", "25P03, 13"})
    void eachSqlstateClassHasItsCode(String state, int code) {
        ZdmException reply = PgErrors.toReply(new SQLException("ERROR: something", state), "UPDATE t SET n = 1");
        assertThat(reply.code().code()).as(state).isEqualTo(code);
    }

    @Test
    void aRefusalSaysWhatItIs() {
        assertThat(PgErrors.toReply(new SQLException("ERROR: permission denied for table t", "42501"),
                "ALTER TABLE \"t\" ADD COLUMN \"c\" int").getMessage()).contains("lacks a privilege", "own the table");
        assertThat(PgErrors.toReply(new SQLException("ERROR: canceling statement due to user request", "57014"),
                "UPDATE t SET n = 1").getMessage()).startsWith("cut short");
        assertThat(PgErrors.toReply(new SQLException("ERROR: cannot execute UPDATE in a read-only transaction",
                "25006"), "UPDATE t SET n = 1").getMessage()).contains("refuses writes");
    }

    /** Hostile finding 14: a refusal names the statement by its beginning and the server's words with their SQLSTATE. */
    @Test
    void aLongStatementIsNamedByItsBeginning() {
        String cte = "WITH zdm_keys AS (SELECT \"id\" FROM \"t\" WHERE \"id\" > ?::integer ORDER BY \"id\" LIMIT ?), "
                + "zdm_done AS (UPDATE \"t\" SET \"k\" = ('b') WHERE \"id\" > ?::integer RETURNING 1)"
                + " SELECT count(*) FROM zdm_done".repeat(3);
        String text = PgErrors.toReply(new SQLException("ERROR: cannot drop inherited column \"c\"", "42P16"), cte)
                .getMessage();
        assertThat(text).hasSizeLessThan(250).contains("cannot drop inherited column").contains("SQLSTATE 42P16")
                .startsWith("WITH zdm_keys").contains(" ...: ").doesNotContain("zdm_done AS (UPDATE \"t\" SET \"k\" = ('b') WHERE");
        assertThat(PgErrors.toReply(new SQLException("ERROR: x", "42P16"), "ALTER TABLE \"t\" DROP COLUMN \"c\"")
                .getMessage()).startsWith("ALTER TABLE \"t\" DROP COLUMN \"c\": ERROR: x");
    }

    @Test
    void aStartFailureNamesItsCause() {
        assertThat(PgErrors.atStart(new SQLException("FATAL: password authentication failed", "28P01"), "h/db"))
                .startsWith("authentication failed at h/db");
        assertThat(PgErrors.atStart(new SQLException("FATAL: database \"db\" does not exist", "3D000"), "h/db"))
                .startsWith("the database at h/db does not exist");
        assertThat(PgErrors.atStart(new SQLException("Connection to h:5432 refused.", "08001"), "h/db"))
                .startsWith("cannot reach PostgreSQL at h/db");
        assertThat(PgErrors.atStart(new SQLException("FATAL: sorry, too many clients already", "53300"), "h/db"))
                .contains("no free connection slot");
    }
}
