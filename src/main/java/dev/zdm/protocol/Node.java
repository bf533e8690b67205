package dev.zdm.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The single-threaded message loop: JSON envelopes in (see {@link EnvelopeReader}), one reply envelope per
 * line out, flushed at once. Only replies go to {@code out}; everything else is logged. No input ends the loop
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

    /** Reads envelopes until end of input; nothing the input holds ends the loop earlier. */
    public void run(InputStream in) throws IOException {
        new EnvelopeReader(in, new EnvelopeReader.Listener() {
            @Override
            public void envelope(JsonNode value) {
                handle(value);
            }

            @Override
            public void oversized(String src, String dest, JsonNode msgId, long bytesRead) {
                String problem = "the envelope is larger than " + EnvelopeReader.MAX_ENVELOPE_BYTES
                        + " bytes; it was not read";
                if (src != null && msgId != null && !msgId.isNull()) {
                    addressedAs(dest);
                    send(src, Reply.error(inReplyTo(msgId), ZdmException.malformed(problem)));
                }
                log.accept("skipped an envelope over " + bytesRead + " bytes"
                        + (src == null || msgId == null ? " (no src and msg_id read before the cap, no reply)"
                        : " from " + Text.capped(src) + ", msg_id " + Text.capped(msgId.toString())));
            }

            @Override
            public void malformed(String problem, String excerpt) {
                log.accept("skipped input that is not JSON (" + Text.capped(problem) + "): " + Text.capped(excerpt));
            }
        }).run();
    }

    void handle(JsonNode envelope) {
        JsonNode body = envelope.get("body");
        if (!(body instanceof ObjectNode requestBody) || !envelope.path("src").isTextual()) {
            log.accept("skipped a value that is not an envelope {src, dest, body}: " + Text.capped(envelope.toString()));
            return;
        }
        String src = envelope.get("src").textValue();
        addressedAs(envelope.path("dest").asText(null));
        JsonNode msgId = requestBody.get("msg_id");
        if (msgId == null || msgId.isNull()) {
            // Maelstrom: a message without msg_id expects no reply.
            log.accept("skipped a request without msg_id: " + Text.capped(envelope.toString()));
            return;
        }
        if (!isWholeNumber(msgId)) {
            send(src, Reply.error(inReplyTo(msgId), ZdmException.malformed("msg_id must be a whole number, not "
                    + Text.capped(msgId.toString()))));
            log.accept("answered error 12 to a msg_id that is not a whole number: " + Text.capped(msgId.toString()));
            return;
        }
        // 1.0 is the id 1: the harness's JSON library may write whole numbers as floats.
        requestBody.put("msg_id", msgId.asLong());
        Request request = new Request(src, envelope.path("dest").asText(null), requestBody);
        send(request.src(), answer(request));
    }

    private void addressedAs(String dest) {
        if (nodeId == null && dest != null) {
            // The course harness never sends init: until one comes we are whoever was addressed.
            nodeId = dest;
        }
    }

    private static boolean isWholeNumber(JsonNode id) {
        if (id.isIntegralNumber()) {
            return id.canConvertToLong();
        }
        if (id.isFloatingPointNumber()) {
            double value = id.asDouble();
            return value == Math.rint(value) && Math.abs(value) < 0x1p53;
        }
        return false;
    }

    /** The msg_id echoed as the client wrote it where that is a short scalar, so it can match the reply. */
    private static JsonNode inReplyTo(JsonNode msgId) {
        if (isWholeNumber(msgId)) {
            return JsonNodeFactory.instance.numberNode(msgId.asLong());
        }
        if (msgId.isNumber() || msgId.isBoolean() || (msgId.isTextual() && msgId.textValue().length() <= Text.MAX_ECHO)) {
            return msgId;
        }
        return JsonNodeFactory.instance.nullNode();
    }

    /** The reply body to one request, an error reply for any failure: what the loop sends, and the commands print. */
    public ObjectNode answer(Request request) {
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
                    "internal error, the operation may or may not have happened: " + e, Map.of(), e));
        }
    }

    private void send(String dest, ObjectNode body) {
        ObjectNode envelope = JsonNodeFactory.instance.objectNode();
        envelope.put("src", nodeId);
        envelope.put("dest", dest);
        envelope.set("body", body);
        JsonLines.writeLine(envelope, out);
        out.flush();
    }

}
