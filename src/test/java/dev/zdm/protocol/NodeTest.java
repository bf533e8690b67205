package dev.zdm.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.handlers.Handlers;
import dev.zdm.pg.ServerVersion;
import dev.zdm.simulator.SimulatorEngine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeTest {

    final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    final List<String> log = new ArrayList<>();
    final List<Request> seen = new ArrayList<>();

    /** Answers every request with {type: "<type>_ok", in_reply_to} and remembers it. */
    final Dispatcher echo = request -> {
        seen.add(request);
        return Reply.to(request, request.type() + "_ok").put("dest_seen", request.dest()).body();
    };

    List<String> run(Dispatcher dispatcher, String... lines) throws IOException {
        Node node = new Node(dispatcher, new PrintStream(stdout, true, StandardCharsets.UTF_8), log::add);
        node.run(new ByteArrayInputStream((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8)));
        String out = stdout.toString(StandardCharsets.UTF_8);
        return out.isEmpty() ? List.of() : out.lines().toList();
    }

    static JsonNode json(String line) throws IOException {
        return Json.MAPPER.readTree(line);
    }

    static String msg(String src, String dest, String body) {
        return "{\"src\":\"" + src + "\",\"dest\":\"" + dest + "\",\"body\":" + body + "}";
    }

    @Test
    void beforeInitTheReplyComesFromTheAddressedNodeToTheSender() throws IOException {
        List<String> out = run(echo, msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":7}"));

        assertThat(out).hasSize(1);
        JsonNode reply = json(out.get(0));
        assertThat(reply.get("src").asText()).isEqualTo("migrations");
        assertThat(reply.get("dest").asText()).isEqualTo("admin");
        assertThat(reply.get("body").get("type").asText()).isEqualTo("ping_ok");
        assertThat(reply.get("body").get("in_reply_to").asLong()).isEqualTo(7);
        assertThat(reply.get("body").has("msg_id")).isFalse();
        assertThat(seen).singleElement().satisfies(r -> {
            assertThat(r.src()).isEqualTo("admin");
            assertThat(r.msgId()).isEqualTo(7);
        });
    }

    @Test
    void initAnswersInitOkAndSetsTheNodeId() throws IOException {
        List<String> out = run(echo,
                msg("c1", "n1", "{\"type\":\"init\",\"msg_id\":1,\"node_id\":\"n1\",\"node_ids\":[\"n1\"]}"),
                msg("c2", "somebody-else", "{\"type\":\"ping\",\"msg_id\":2}"));

        assertThat(out).hasSize(2);
        assertThat(out.get(0)).isEqualTo("{\"src\":\"n1\",\"dest\":\"c1\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":1}}");
        JsonNode second = json(out.get(1));
        assertThat(second.get("src").asText()).isEqualTo("n1");
        assertThat(second.get("dest").asText()).isEqualTo("c2");
        assertThat(seen).as("init is the node's own business").hasSize(1);
    }

    @Test
    void initChangesTheIdTheNodeHadTakenFromDest() throws IOException {
        List<String> out = run(echo,
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":1}"),
                msg("admin", "migrations", "{\"type\":\"init\",\"msg_id\":2,\"node_id\":\"n7\",\"node_ids\":[]}"),
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":3}"));
        assertThat(out).extracting(l -> json(l).get("src").asText()).containsExactly("migrations", "n7", "n7");
    }

    @Test
    void aLineThatIsNotJsonIsLoggedAndSkipped() throws IOException {
        List<String> out = run(echo, "this is not json {");
        assertThat(out).isEmpty();
        assertThat(log).singleElement().asString().contains("not JSON");
        assertThat(seen).isEmpty();
    }

    @Test
    void aRequestWithoutMsgIdIsLoggedAndSkipped() throws IOException {
        List<String> out = run(echo,
                msg("admin", "migrations", "{\"type\":\"ping\"}"),
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":null}"));
        assertThat(out).isEmpty();
        assertThat(log).hasSize(2).allSatisfy(l -> assertThat(l).contains("msg_id"));
        assertThat(seen).isEmpty();
    }

    @Test
    void anIntegralFloatMsgIdIsThatId() throws IOException {
        List<String> out = run(echo, msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":1.0}"),
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":2e0}"));
        assertThat(out).extracting(l -> json(l).get("body").get("in_reply_to").toString()).containsExactly("1", "2");
        assertThat(seen).extracting(Request::msgId).containsExactly(1L, 2L);
    }

    @Test
    void aMsgIdThatIsNotAWholeNumberIsError12EchoingIt() throws IOException {
        List<String> out = run(echo,
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":\"7\"}"),
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":1.5}"),
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":[1]}"));
        assertThat(out).hasSize(3);
        assertThat(out).extracting(l -> json(l).get("body").get("code").asInt()).containsOnly(12);
        assertThat(out).extracting(l -> json(l).get("body").get("in_reply_to").toString())
                .containsExactly("\"7\"", "1.5", "null");
        assertThat(out).extracting(l -> json(l).get("dest").asText()).containsOnly("admin");
        assertThat(seen).isEmpty();
    }

    @Test
    void anEnvelopeOverSeveralLinesIsReadWhole() throws IOException {
        List<String> out = run(echo, "{\"src\": \"admin\",", "  \"dest\": \"migrations\",",
                "  \"body\": {\"type\": \"ping\",", "     \"msg_id\": 3}", "}",
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":4}") + " "
                        + msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":5}"));
        assertThat(out).extracting(l -> json(l).get("body").get("in_reply_to").asLong()).containsExactly(3L, 4L, 5L);
        assertThat(log).isEmpty();
    }

    @Test
    void aBrokenEnvelopeIsSkippedAndTheNextLineRead() throws IOException {
        List<String> out = run(echo,
                "{\"src\":\"admin\",\"dest\":\"migrations\",\"body\":{\"type\":\"ping\",",
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":8}"),
                "{\"src\": \"admin\", \"body\": }",
                "\"unterminated",
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":9}"));
        assertThat(out).extracting(l -> json(l).get("body").get("in_reply_to").asLong()).containsExactly(8L, 9L);
        assertThat(log).hasSize(3).allSatisfy(l -> assertThat(l).contains("not JSON"));
    }

    @Test
    void anOversizedEnvelopeIsError12WhenItsMsgIdCameFirstAndNeverHeldWhole() throws IOException {
        String head = "{\"src\":\"admin\",\"dest\":\"migrations\",\"body\":{\"type\":\"ping\",\"msg_id\":6,\"pad\":\"";
        byte[] tail = ("\"}}\n" + msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":7}") + "\n")
                .getBytes(StandardCharsets.UTF_8);
        long padding = 2L << 30;
        InputStream in = new SequenceInputStream(new ByteArrayInputStream(head.getBytes(StandardCharsets.UTF_8)),
                new SequenceInputStream(new RepeatedByte('x', padding), new ByteArrayInputStream(tail)));
        Node node = new Node(echo, new PrintStream(stdout, true, StandardCharsets.UTF_8), log::add);
        node.run(in);
        List<String> out = stdout.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(out).hasSize(2);
        JsonNode error = json(out.get(0)).get("body");
        assertThat(error.get("code").asInt()).isEqualTo(12);
        assertThat(error.get("in_reply_to").asLong()).isEqualTo(6);
        assertThat(json(out.get(1)).get("body").get("in_reply_to").asLong()).isEqualTo(7);
        assertThat(log).singleElement().asString().contains("skipped an envelope over");
    }

    @Test
    void anOversizedLineWithoutMsgIdIsOnlyLogged() throws IOException {
        String line = "[" + "1,".repeat(EnvelopeReader.MAX_ENVELOPE_BYTES) + "1]";
        List<String> out = run(echo, line, msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":1}"));
        assertThat(out).singleElement().satisfies(l -> assertThat(json(l).get("body").get("type").asText()).isEqualTo("ping_ok"));
        assertThat(log).singleElement().asString().contains("no reply");
    }

    @Test
    void theReaderHoldsAtMostTheCapAndOnePiece() throws IOException {
        List<JsonNode> values = new ArrayList<>();
        InputStream in = new SequenceInputStream(new ByteArrayInputStream("{\"s\":\"".getBytes(StandardCharsets.UTF_8)),
                new SequenceInputStream(new RepeatedByte('x', 1L << 30),
                        new ByteArrayInputStream("\"}\n{\"a\":1}\n".getBytes(StandardCharsets.UTF_8))));
        EnvelopeReader reader = new EnvelopeReader(in, new EnvelopeReader.Listener() {
            @Override
            public void envelope(JsonNode value) {
                values.add(value);
            }

            @Override
            public void oversized(String src, String dest, JsonNode msgId, long bytesRead) {
                log.add("oversized " + bytesRead);
            }

            @Override
            public void malformed(String problem, String excerpt) {
                log.add("malformed " + problem);
            }
        });
        reader.run();
        assertThat(values).extracting(JsonNode::toString).containsExactly("{\"a\":1}");
        assertThat(reader.maxHeldBytes()).isLessThanOrEqualTo(EnvelopeReader.MAX_ENVELOPE_BYTES + 64 * 1024);
        assertThat(log).singleElement().asString().startsWith("oversized");
    }

    @Test
    void aKeyTwiceIsError12ToTheSenderAndNotDispatched() throws IOException {
        List<String> out = run(echo,
                "{\"src\":\"admin\",\"dest\":\"migrations\",\"body\":{\"type\":\"ping\",\"msg_id\":4,"
                        + "\"set\":{\"n\":\"n+1\",\"n\":\"n+100\"}}}",
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":5}"));
        assertThat(out).hasSize(2);
        JsonNode error = json(out.get(0));
        assertThat(error.get("dest").asText()).isEqualTo("admin");
        assertThat(error.get("body").get("code").asInt()).isEqualTo(12);
        assertThat(error.get("body").get("in_reply_to").asLong()).isEqualTo(4);
        assertThat(error.get("body").get("text").asText()).contains("body.set.n");
        assertThat(seen).extracting(Request::msgId).containsExactly(5L);
    }

    @Test
    void everyFailureIsCountedAndInputWithoutAReplyIsLoggedAsNotRun() throws IOException {
        Dispatcher failing = request -> {
            throw ZdmException.malformed("no");
        };
        Node node = new Node(failing, new PrintStream(stdout, true, StandardCharsets.UTF_8), log::add);
        node.run(new ByteArrayInputStream(String.join("\n",
                msg("admin", "migrations", "{\"type\":\"ping\"}"),
                "{\"body\":{\"type\":\"ping\",\"msg_id\":1}}",
                "not json",
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":2}"),
                "").getBytes(StandardCharsets.UTF_8)));
        assertThat(node.failures()).isEqualTo(4);
        assertThat(log.subList(0, 2)).allSatisfy(l -> assertThat(l).startsWith("NOT RUN"));
    }

    @Test
    void stoppingAtTheFirstFailureReadsNothingAfterIt() throws IOException {
        Node node = new Node(echo, new PrintStream(stdout, true, StandardCharsets.UTF_8), log::add, true);
        node.run(new ByteArrayInputStream(String.join("\n",
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":1}"),
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":\"x\"}"),
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":3}"),
                "").getBytes(StandardCharsets.UTF_8)));
        assertThat(node.failures()).isEqualTo(1);
        assertThat(seen).extracting(Request::msgId).containsExactly(1L);
        assertThat(stdout.toString(StandardCharsets.UTF_8).lines()).hasSize(2);
        assertThat(log).last().asString().contains("stopped at the first failure");
    }

    @Test
    void anErrorTextEchoesAtMostAThousandCharactersOfInput() throws IOException {
        Dispatcher failing = request -> {
            throw ZdmException.malformed("not a plain SQL name: " + request.body().get("table").asText());
        };
        List<String> out = run(failing, msg("admin", "migrations",
                "{\"type\":\"create_index\",\"msg_id\":3,\"table\":\"" + "t".repeat(100_000) + "\"}"));
        assertThat(json(out.get(0)).get("body").get("text").asText().length()).isLessThan(1_100);
    }

    /** {@code count} copies of one byte, made as they are read. */
    static final class RepeatedByte extends InputStream {
        private final byte value;
        private long left;

        RepeatedByte(char value, long count) {
            this.value = (byte) value;
            this.left = count;
        }

        @Override
        public int read() {
            return left-- > 0 ? value : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left <= 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            java.util.Arrays.fill(b, off, off + n, value);
            left -= n;
            return n;
        }
    }

    @Test
    void aLineThatIsNoEnvelopeIsSkippedAndTheNextOneStillAnswered() throws IOException {
        List<String> out = run(echo,
                "[1,2,3]",
                "{\"src\":\"admin\"}",
                "{\"dest\":\"x\",\"body\":{\"type\":\"ping\",\"msg_id\":1}}",
                "",
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":4}"));
        assertThat(out).hasSize(1);
        assertThat(json(out.get(0)).get("body").get("in_reply_to").asLong()).isEqualTo(4);
        assertThat(log).hasSize(3);
    }

    @Test
    void aZdmExceptionBecomesItsErrorReply() throws IOException {
        Dispatcher failing = request -> {
            throw new ZdmException(ErrorCode.KEY_DOES_NOT_EXIST, "table orders does not exist");
        };
        List<String> out = run(failing, msg("admin", "migrations", "{\"type\":\"create_index\",\"msg_id\":3}"));
        assertThat(out).containsExactly("{\"src\":\"migrations\",\"dest\":\"admin\",\"body\":{\"type\":\"error\","
                + "\"in_reply_to\":3,\"code\":20,\"text\":\"table orders does not exist\"}}");
    }

    @Test
    void aRuntimeExceptionFromTheDispatcherIsError13AndTheLoopGoesOn() throws IOException {
        Dispatcher buggy = request -> {
            if (request.msgId() == 1) {
                throw new IllegalStateException("boom");
            }
            return echo.handle(request);
        };
        List<String> out = run(buggy,
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":1}"),
                msg("admin", "migrations", "{\"type\":\"ping\",\"msg_id\":2}"));

        assertThat(out).hasSize(2);
        JsonNode error = json(out.get(0)).get("body");
        assertThat(error.get("type").asText()).isEqualTo("error");
        assertThat(error.get("in_reply_to").asLong()).isEqualTo(1);
        assertThat(error.get("code").asInt()).isEqualTo(13);
        assertThat(error.get("text").asText()).contains("boom");
        assertThat(json(out.get(1)).get("body").get("type").asText()).isEqualTo("ping_ok");
        assertThat(log).anySatisfy(l -> assertThat(l).contains("boom"));
    }

    @Test
    void runReturnsAtEndOfInput() throws IOException {
        assertThat(run(echo)).isEmpty();
        List<String> out = run(echo, msg("a", "b", "{\"type\":\"ping\",\"msg_id\":1}"));
        assertThat(out).hasSize(1);
    }

    @Test
    void initWithoutNodeIdIsError12() throws IOException {
        List<String> out = run(echo, msg("c1", "n1", "{\"type\":\"init\",\"msg_id\":1}"));
        JsonNode body = json(out.get(0)).get("body");
        assertThat(body.get("code").asInt()).isEqualTo(12);
        assertThat(body.get("text").asText()).contains("node_id");
    }

    // ---- with the real handlers over the simulator

    Handlers simulator() {
        return Handlers.forEngine(SimulatorEngine.withUsersTable(ServerVersion.DEFAULT, 6_000_000), Duration.ofMillis(2_000));
    }

    @Test
    void theSeedsRepliesThroughTheRealHandlers() throws IOException {
        List<String> out = run(simulator(),
                msg("admin", "migrations", "{\"type\":\"create_index\",\"msg_id\":1,\"table\":\"users\","
                        + "\"column\":\"email\",\"concurrently\":true}"),
                msg("admin", "migrations", "{\"type\":\"add_column\",\"msg_id\":2,\"table\":\"users\","
                        + "\"column\":\"status\",\"default\":\"active\",\"nullable\":false}"),
                msg("admin", "migrations", "{\"type\":\"migrate_data\",\"msg_id\":3,\"table\":\"users\","
                        + "\"batch_size\":1000,\"total_rows\":10000}"));
        assertThat(out).containsExactly(
                "{\"src\":\"migrations\",\"dest\":\"admin\",\"body\":{\"type\":\"index_created\",\"in_reply_to\":1,"
                        + "\"index\":\"idx_email\",\"duration_seconds\":120,\"table_locked\":false}}",
                "{\"src\":\"migrations\",\"dest\":\"admin\",\"body\":{\"type\":\"column_added\",\"in_reply_to\":2,"
                        + "\"duration_seconds\":0.1,\"table_rewritten\":false}}",
                "{\"src\":\"migrations\",\"dest\":\"admin\",\"body\":{\"type\":\"data_migrated\",\"in_reply_to\":3,"
                        + "\"total_rows\":10000,\"batches\":10,\"table_locked\":false}}");
    }

    @Test
    void anUnknownTypeIsError10() throws IOException {
        List<String> out = run(simulator(), msg("admin", "migrations", "{\"type\":\"drop_table\",\"msg_id\":5}"));
        JsonNode body = json(out.get(0)).get("body");
        assertThat(body.get("type").asText()).isEqualTo("error");
        assertThat(body.get("in_reply_to").asLong()).isEqualTo(5);
        assertThat(body.get("code").asInt()).isEqualTo(10);
        assertThat(body.get("text").asText()).contains("drop_table");
    }

    @Test
    void aHostileNameIsOnlyANameAndNothingRuns() throws IOException {
        // A name is exact and always quoted: "users; drop table users" is a table nobody has (20); a NUL is no name (12).
        List<String> out = run(simulator(),
                msg("admin", "migrations", "{\"type\":\"create_index\",\"msg_id\":1,\"table\":\"users; drop table users\","
                        + "\"column\":\"email\"}"),
                msg("admin", "migrations", "{\"type\":\"create_index\",\"msg_id\":2,\"table\":\"users\\u0000\","
                        + "\"column\":\"email\"}"),
                msg("admin", "migrations", "{\"type\":\"create_index\",\"msg_id\":3,\"table\":\"users\",\"column\":\"email\"}"));
        assertThat(json(out.get(0)).get("body").get("code").asInt()).isEqualTo(20);
        assertThat(json(out.get(1)).get("body").get("code").asInt()).isEqualTo(12);
        assertThat(json(out.get(2)).get("body").get("type").asText()).isEqualTo("index_created");
    }

    @Test
    void aLockAbortCarriesItsDetailsInOrder() throws IOException {
        List<String> out = run(simulator(),
                msg("admin", "migrations", "{\"type\":\"open_transaction\",\"msg_id\":1,\"session\":\"app\","
                        + "\"table\":\"users\",\"mode\":\"ACCESS SHARE\"}"),
                msg("admin", "migrations", "{\"type\":\"add_column\",\"msg_id\":2,\"table\":\"users\","
                        + "\"column\":\"status\",\"default\":\"active\",\"max_lock_duration_ms\":500}"));
        assertThat(json(out.get(0)).get("body").get("type").asText()).isEqualTo("transaction_opened");
        ObjectNode body = (ObjectNode) json(out.get(1)).get("body");
        List<String> keys = new ArrayList<>();
        body.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactly("type", "in_reply_to", "code", "text", "table", "waited_ms", "blocked_by",
                "rolled_back");
        assertThat(body.get("code").asInt()).isEqualTo(14);
        assertThat(body.get("waited_ms").asLong()).isEqualTo(500);
        JsonNode blocker = body.get("blocked_by").get(0);
        assertThat(body.get("blocked_by")).hasSize(1);
        assertThat(blocker.get("session").asText()).isEqualTo("app");
        assertThat(blocker.get("state").asText()).isEqualTo("idle in transaction");
        assertThat(blocker.get("transaction_age_ms").asLong()).as("the session opened before the request")
                .isGreaterThanOrEqualTo(500);
        assertThat(body.get("rolled_back").asBoolean()).isTrue();
    }
}
