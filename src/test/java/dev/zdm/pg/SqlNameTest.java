package dev.zdm.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SqlNameTest {

    @ParameterizedTest
    @ValueSource(strings = {"", "a\u0000b", "\u0000", "\ud800x"})
    void namesPostgresqlCannotHoldAreError12(String text) {
        assertThatThrownBy(() -> SqlName.of(text))
                .isInstanceOfSatisfying(ZdmException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED_REQUEST));
        assertThat(ErrorCode.MALFORMED_REQUEST.code()).isEqualTo(12);
    }

    @Test
    void nullIsError12() {
        assertThatThrownBy(() -> SqlName.of(null))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12));
    }

    @Test
    void sixtyThreeBytesInUtf8IsTheLimit() {
        String max = "a".repeat(63);
        assertThat(SqlName.of(max).value()).isEqualTo(max);
        assertThatThrownBy(() -> SqlName.of("a".repeat(64)))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12));
        // é is two bytes: 31 of them and one a fit, 32 do not.
        assertThat(SqlName.of("é".repeat(31) + "a").value()).hasSize(32);
        assertThatThrownBy(() -> SqlName.of("é".repeat(32)))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12));
    }

    @ParameterizedTest
    @ValueSource(strings = {"users", "_private", "idx_email_2", "select", "a", "Users", "Mixed Case\"quote",
            "users; drop table users", "users\"; drop table users; --", "public.users", "usérs", "1users", "$1",
            "us-ers", " users ", "o'brien", "back\\slash", "line\nbreak", "日本"})
    void anyNameWithoutNulIsTakenExactly(String text) {
        assertThat(SqlName.of(text).value()).isEqualTo(text);
    }

    @Test
    void noCaseIsFolded() {
        assertThat(SqlName.of("Users")).isNotEqualTo(SqlName.of("users"));
        assertThat(SqlName.of("EMAIL").quoted()).isEqualTo("\"EMAIL\"");
    }

    @Test
    void quotedWrapsInDoubleQuotesAndDoublesTheQuotesInside() {
        assertThat(SqlName.of("select").quoted()).isEqualTo("\"select\"");
        assertThat(SqlName.of("Mixed Case\"quote").quoted()).isEqualTo("\"Mixed Case\"\"quote\"");
        assertThat(SqlName.of("x\"; DROP TABLE t; --").quoted()).isEqualTo("\"x\"\"; DROP TABLE t; --\"");
        assertThat(SqlName.of("users").toString()).isEqualTo("users");
    }

    @Test
    void aTableInASchemaIsAnotherTableThanTheUnqualifiedName() {
        SqlName qualified = SqlName.table("Tenant A", "accounts");
        assertThat(qualified.quoted()).isEqualTo("\"Tenant A\".\"accounts\"");
        assertThat(qualified).isNotEqualTo(SqlName.of("accounts")).isNotEqualTo(SqlName.table("tenant_b", "accounts"));
        assertThat(qualified.toString()).isEqualTo("Tenant A.accounts");
        assertThat(qualified.unqualified()).isEqualTo(SqlName.of("accounts"));
        assertThat(SqlName.table(null, "accounts")).isEqualTo(SqlName.of("accounts"));
        assertThatThrownBy(() -> SqlName.table("", "accounts")).isInstanceOf(ZdmException.class);
    }

    @Test
    void truncationCutsBetweenCharactersAtSixtyThreeBytes() {
        assertThat(SqlName.truncate("a".repeat(70))).isEqualTo("a".repeat(63));
        // 31 two-byte characters are 62 bytes; the 32nd would make 64.
        assertThat(SqlName.truncate("é".repeat(40))).isEqualTo("é".repeat(31));
        assertThat(SqlName.truncate("ab")).isEqualTo("ab");
    }
}
