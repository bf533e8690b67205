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
    @ValueSource(strings = {"users; drop table users", "users\"; drop table users; --", "\"users\"", "users'",
            "users--", "users/*x*/", "1users", "", " users", "users ", "public.users", "us-ers", "usérs",
            "users\n", "$1", "a\u0000b"})
    void hostileOrNonPlainNamesAreError12(String text) {
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
    void sixtyThreeCharactersIsTheLimit() {
        String max = "a".repeat(63);
        assertThat(SqlName.of(max).value()).isEqualTo(max);
        assertThatThrownBy(() -> SqlName.of("a".repeat(64)))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12));
    }

    @ParameterizedTest
    @ValueSource(strings = {"users", "_private", "idx_email_2", "select", "a"})
    void plainNamesAreAccepted(String text) {
        assertThat(SqlName.of(text).value()).isEqualTo(text);
    }

    @Test
    void namesFoldToLowerCaseAsPostgresFoldsUnquotedNames() {
        assertThat(SqlName.of("Users")).isEqualTo(SqlName.of("users"));
        assertThat(SqlName.of("EMAIL").value()).isEqualTo("email");
    }

    @Test
    void theConstructorDoesNotFoldAndRejectsUpperCase() {
        assertThatThrownBy(() -> new SqlName("Users")).isInstanceOf(ZdmException.class);
    }

    @Test
    void quotedWrapsInDoubleQuotesSoKeywordsAreHarmless() {
        assertThat(SqlName.of("select").quoted()).isEqualTo("\"select\"");
        assertThat(SqlName.of("users").toString()).isEqualTo("users");
    }
}
