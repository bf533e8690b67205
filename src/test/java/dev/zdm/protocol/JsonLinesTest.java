package dev.zdm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonLinesTest {

    @Test
    void reads_the_same_tree_as_the_object_mapper() throws Exception {
        String line = "{\"src\":\"a\",\"body\":{\"msg_id\":1,\"big\":12345678901234,\"huge\":123456789012345678901234567890,"
                + "\"x\":1.5,\"t\":true,\"f\":false,\"n\":null,\"list\":[1,\"two\",[3]],\"o\":{}}}";
        assertThat(JsonLines.parse(line)).isEqualTo(Json.MAPPER.readTree(line));
    }

    @Test
    void writes_what_it_reads_and_decimals_plainly() throws Exception {
        String line = "{\"a\":[1,2.5,\"s\\\"q\",true,null],\"b\":{\"c\":-7}}";
        assertThat(JsonLines.write(JsonLines.parse(line))).isEqualTo(line);
        var node = Json.MAPPER.createObjectNode().put("d", new BigDecimal("1.2E+2")).put("e", new BigDecimal("0.1"));
        assertThat(JsonLines.write(node)).isEqualTo("{\"d\":120,\"e\":0.1}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "not json", "{\"a\":1} {\"b\":2}", "{\"a\":", "[1,2"})
    void anything_but_one_json_value_is_refused(String line) {
        assertThatThrownBy(() -> JsonLines.parse(line)).isInstanceOf(JsonProcessingException.class);
    }

    @Test
    void nesting_is_bounded_by_the_parser_not_the_stack() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        assertThatThrownBy(() -> JsonLines.parse(deep)).isInstanceOf(JsonProcessingException.class);
    }

    @Test
    void a_plain_value_is_a_document_too() throws Exception {
        JsonNode node = JsonLines.parse("42");
        assertThat(node.asInt()).isEqualTo(42);
    }
}
