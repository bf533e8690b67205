package dev.zdm.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.function.Consumer;

/**
 * The single-threaded message loop: one JSON envelope per line in, one reply envelope per line out,
 * flushed at once. Only replies go to {@code out}; everything else is logged. No input ends the loop
 * but end of input.
 */
public final class Node {

    private final Dispatcher dispatcher;
    private final PrintStream out;
    private final Consumer<String> log;
    private String nodeId;

    public Node(Dispatcher dispatcher, PrintStream out, Consumer<String> log) {
        this.dispatcher = dispatcher;
        this.out = out;
        this.log = log;
    }

    public void run(BufferedReader in) throws IOException {
        String line;
        while ((line = in.readLine()) != null) {
            if (!line.isBlank()) {
                handleLine(line);
            }
        }
    }

    void handleLine(String line) {
        JsonNode envelope;
        try {
            envelope = JsonLines.parse(line);
        } catch (JsonProcessingException e) {
            log.accept("skipped a line that is not JSON: " + abbreviate(line));
            return;
        }
        JsonNode body = envelope == null ? null : envelope.get("body");
        if (!(body instanceof ObjectNode requestBody) || !envelope.path("src").isTextual()) {
            log.accept("skipped a line that is not an envelope {src, dest, body}: " + abbreviate(line));
            return;
        }
        if (!requestBody.path("msg_id").canConvertToLong() || !requestBody.path("msg_id").isIntegralNumber()) {
            log.accept("skipped a request without a whole-number msg_id: " + abbreviate(line));
            return;
        }
        Request request = new Request(envelope.get("src").asText(), envelope.path("dest").asText(null),
                requestBody);
        if (nodeId == null && request.dest() != null) {
            // The course harness never sends init: until one comes we are whoever was addressed.
            nodeId = request.dest();
        }
        ObjectNode reply = answer(request);
        send(request.src(), reply);
    }

    private ObjectNode answer(Request request) {
        try {
            if ("init".equals(request.type())) {
                nodeId = request.string("node_id");
                return Reply.to(request, "init_ok").body();
            }
            return dispatcher.handle(request);
        } catch (ZdmException e) {
            log.accept("msg_id " + request.msgId() + " (" + request.type() + "): error " + e.code().code()
                    + ": " + e.getMessage());
            return Reply.error(request.msgId(), e);
        } catch (RuntimeException e) {
            // A bug or a lost server: the reply must still come, and say that the outcome is unknown.
            log.accept("msg_id " + request.msgId() + " failed: " + e);
            return Reply.error(request.msgId(), new ZdmException(ErrorCode.CRASH,
                    "internal error, the operation may or may not have happened: " + e, java.util.Map.of(), e));
        }
    }

    private void send(String dest, ObjectNode body) {
        ObjectNode envelope = JsonNodeFactory.instance.objectNode();
        envelope.put("src", nodeId);
        envelope.put("dest", dest);
        envelope.set("body", body);
        out.println(JsonLines.write(envelope));
        out.flush();
    }

    private static String abbreviate(String line) {
        return line.length() <= 200 ? line : line.substring(0, 200) + "...";
    }
}
