package dev.zdm.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EnvelopeReaderTest {

    final List<JsonNode> values = new ArrayList<>();
    final List<String> skipped = new ArrayList<>();

    List<JsonNode> read(String input) {
        EnvelopeReader reader = new EnvelopeReader(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
                new EnvelopeReader.Listener() {
                    @Override
                    public void envelope(JsonNode value) {
                        values.add(value);
                    }

                    @Override
                    public void oversized(String src, String dest, JsonNode msgId, long bytesRead) {
                        skipped.add("oversized");
                    }

                    @Override
                    public void malformed(String problem, String excerpt) {
                        skipped.add(excerpt);
                    }

                    @Override
                    public void duplicateKey(JsonNode value, String path) {
                        skipped.add("duplicate " + path + " in " + value);
                    }
                });
        try {
            reader.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return values;
    }

    @Test
    void readsTheSameTreeAsTheObjectMapper() throws Exception {
        String line = "{\"src\":\"a\",\"body\":{\"msg_id\":1,\"big\":12345678901234,\"huge\":123456789012345678901234567890,"
                + "\"x\":1.5,\"t\":true,\"f\":false,\"n\":null,\"list\":[1,\"two\",[3]],\"o\":{}}}";
        assertThat(read(line + "\n")).containsExactly(Json.MAPPER.readTree(line));
    }

    @Test
    void writesWhatItReadsAndDecimalsPlainly() {
        String line = "{\"a\":[1,2.5,\"s\\\"q\",true,null],\"b\":{\"c\":-7}}";
        assertThat(JsonLines.write(read(line).get(0))).isEqualTo(line);
        var node = Json.MAPPER.createObjectNode().put("d", new BigDecimal("1.2E+2")).put("e", new BigDecimal("0.1"));
        assertThat(JsonLines.write(node)).isEqualTo("{\"d\":120,\"e\":0.1}");
    }

    @Test
    void valuesAreReadWhereverTheLinesBreak() {
        assertThat(read("{\"a\":\n1}{\"b\":2}\n\n  [3,\n4] 5\n")).extracting(JsonNode::toString)
                .containsExactly("{\"a\":1}", "{\"b\":2}", "[3,4]", "5");
        assertThat(skipped).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"not json", "{\"a\":", "[1,2", "{\"a\" 1}", "}"})
    void whatIsNotJsonIsSkippedAndTheNextLineRead(String bad) {
        assertThat(read(bad + "\n{\"ok\":1}\n")).extracting(JsonNode::toString).containsExactly("{\"ok\":1}");
        assertThat(skipped).hasSize(1);
    }

    @Test
    void nestingIsBoundedByTheParserNotTheStack() {
        read("[".repeat(100_000) + "]".repeat(100_000) + "\n{\"ok\":1}\n");
        assertThat(values).extracting(JsonNode::toString).containsExactly("{\"ok\":1}");
        assertThat(skipped).hasSize(1);
    }

    @Test
    void aValueCutOffByTheEndOfInputIsSkipped() {
        assertThat(read("{\"ok\":1}\n{\"a\":[1,")).hasSize(1);
        assertThat(skipped).hasSize(1);
    }

    @Test
    void everyGoodEnvelopeIsReadOnceInOrderWhateverBrokenInputSurroundsIt() {
        // Openers and closers are not mixed: `{"a":` + an envelope + `}` is valid JSON, one value, no envelope.
        String[][] garbageSets = {{"not json", "{\"a\":", "[1,", "\"unterminated", "tru", "{\"src\": \"a\", \"body\": }"},
                {"not json", "}", "]", "\"unterminated", "1 2 x", "{\"src\": \"a\", \"body\": }"}};
        java.util.Random random = new java.util.Random(8);
        for (int trial = 0; trial < 300; trial++) {
            String[] garbage = garbageSets[trial % 2];
            values.clear();
            skipped.clear();
            StringBuilder input = new StringBuilder();
            List<Long> sent = new ArrayList<>();
            for (int item = 0; item < 12; item++) {
                if (random.nextInt(3) == 0) {
                    input.append(garbage[random.nextInt(garbage.length)]).append('\n');
                    continue;
                }
                long id = trial * 100L + item;
                sent.add(id);
                String envelope = "{\"src\":\"c\",\"dest\":\"n\",\"body\":{\"type\":\"t\",\"msg_id\":" + id + "}}";
                // Over one to three lines, broken after commas.
                input.append(random.nextBoolean() ? envelope : envelope.replace(",\"dest\"", ",\n \"dest\"")
                        .replace(",\"msg_id\"", random.nextBoolean() ? ",\n\"msg_id\"" : ",\"msg_id\""));
                input.append('\n');
            }
            read(input.toString());
            assertThat(values).as("trial %d:%n%s", trial, input)
                    .filteredOn(v -> v.has("body"))
                    .extracting(v -> v.get("body").get("msg_id").asLong())
                    .containsExactlyElementsOf(sent);
        }
    }

    @Test
    void aKeyTwiceAtAnyDepthIsReportedWithItsPathAndTheFirstValueKept() {
        read("{\"src\":\"a\",\"body\":{\"set\":{\"n\":\"1\",\"n\":\"2\"}}}\n"
                + "{\"src\":\"a\",\"src\":\"b\"}\n"
                + "{\"list\":[{},{\"k\":[1],\"k\":{\"deep\":1}}]}\n"
                + "{\"fine\":{\"n\":1},\"other\":{\"n\":2}}\n");
        assertThat(skipped).containsExactly(
                "duplicate body.set.n in {\"src\":\"a\",\"body\":{\"set\":{\"n\":\"1\"}}}",
                "duplicate src in {\"src\":\"a\"}",
                "duplicate list[1].k in {\"list\":[{},{\"k\":[1]}]}");
        assertThat(values).extracting(JsonNode::toString).containsExactly("{\"fine\":{\"n\":1},\"other\":{\"n\":2}}");
    }
}
