package dev.zdm.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The generated facts, as the servers they were read from have them. */
class PgFactsTest {

    static PgFacts at(int major) {
        return PgFacts.of(new ServerVersion(major));
    }

    static boolean isVolatile(int major, String expression) {
        return at(major).isVolatile(new SqlExpression(expression));
    }

    @Test
    void volatileFunctionsAreRecognisedAndStableOnesAreNot() {
        assertThat(isVolatile(15, "random()")).isTrue();
        assertThat(isVolatile(15, "gen_random_uuid()")).isTrue();
        assertThat(isVolatile(15, "clock_timestamp()")).isTrue();
        assertThat(isVolatile(15, "now()")).isFalse();
        assertThat(isVolatile(15, "current_timestamp")).isFalse();
        assertThat(isVolatile(15, "'random()'")).isFalse();
    }

    @Test
    void currentQueryIsVolatileAsPgProcSays() {
        assertThat(at(17).volatility("current_query")).contains(PgFacts.Volatility.VOLATILE);
        assertThat(isVolatile(17, "current_query()")).isTrue();
    }

    /** Read from the embedded 18.0 (mvn -Pfacts verify): uuidv7() is new in 18, and volatile. */
    @Test
    void uuidv7ExistsFrom18Only() {
        assertThat(at(18).volatility("uuidv7")).contains(PgFacts.Volatility.VOLATILE);
        assertThat(isVolatile(18, "uuidv7()")).isTrue();
        assertThat(at(17).volatility("uuidv7")).isEmpty();
    }

    @Test
    void randomNormalExistsFrom16Only() {
        assertThat(isVolatile(16, "random_normal()")).isTrue();
        at(16).requireKnownFunctions(new SqlExpression("random_normal()"));
        assertThat(isVolatile(15, "random_normal()")).isFalse();
        assertThatThrownBy(() -> at(15).requireKnownFunctions(new SqlExpression("random_normal()")))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED_REQUEST))
                .hasMessageContaining("random_normal");
    }

    @Test
    void keywordsAndCastsBeforeAParenthesisAreNotUnknownFunctions() {
        for (String expression : List.of("coalesce(NULL, 1)", "cast(1 AS numeric(10,2))", "row(1, 2)", "now()")) {
            at(15).requireKnownFunctions(new SqlExpression(expression));
        }
    }

    @Test
    void serialIsSugarForAnIntegerTypeNotAType() {
        assertThat(at(10).serialType("serial")).contains("integer");
        assertThat(at(17).serialType("bigserial")).contains("bigint");
        assertThat(at(17).serialType("smallserial")).contains("smallint");
        assertThat(at(17).serialType("integer")).isEmpty();
        assertThat(at(17).canonicalType("serial")).isEmpty();
    }

    @Test
    void typeNamesAndTheirAliases() {
        assertThat(at(15).canonicalType("int")).contains("integer");
        assertThat(at(15).canonicalType("timestamptz")).contains("timestamp with time zone");
        assertThat(at(15).canonicalType("no_such_type")).isEmpty();
        assertThat(at(15).knowsType("varchar(20)")).isTrue();
        assertThat(at(15).knowsType("int[]")).isTrue();
        assertThat(at(15).knowsType("smallserial")).isTrue();
        assertThat(at(15).knowsType("no_such_type")).isFalse();
    }

    @Test
    void aVersionOutsideTheGeneratedOnesTakesTheNearest() {
        assertThat(at(9).major()).isEqualTo(10);
        assertThat(at(40).major()).isEqualTo(18);
    }
}
