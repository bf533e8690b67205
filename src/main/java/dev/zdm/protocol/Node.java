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
 * but end of input, unless {@code stopAtFirstFailure}: then the first failure (an error reply, or input
 * skipped without one) ends it.
 *
 * <p>A failure is counted, for the exit code: an error reply, and input that got no reply because none
 * could be addressed or none was asked for (not JSON, not an envelope, over the size cap, no msg_id).
 */
public final class Node {

    private final Dispatcher dispatcher;
    private final PrintStream out;
    private final Consumer<String> log;
    private final boolean stopAtFirstFailure;
    private String nodeId;
    private int failures;

    /** Ends the reading at the first failure. */
    private static final class Stop extends RuntimeException {
        Stop() {
            super(null, null, false, false);
        }
    }

    public Node(Dispatcher dispatcher, PrintStream out, Consumer<String> log) {
        this(dispatcher, out, log, false);
    }

    public Node(Dispatcher dispatcher, PrintStream out, Consumer<String> log, boolean stopAtFirstFailure) {
        this.dispatcher = dispatcher;
        this.out = out;
        this.log = log;
        this.stopAtFirstFailure = stopAtFirstFailure;
    }

    /** Requests answered with an error, and input skipped without a reply, so far. */
    public int failures() {
        return failures;
    }

    private void failed() {
        failures++;
        if (stopAtFirstFailure) {
            throw new Stop();
        }
    }

    /** Reads envelopes until end of input; nothing the input holds ends the loop earlier. */
    public void run(InputStream in) throws IOException {
        try {
            read(in);
        } catch (Stop stop) {
            log.accept("stopped at the first failure: the rest of the input was not read");
        }
    }

    private void read(InputStream in) throws IOException {
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
                failed();
            }

            @Override
            public void malformed(String problem, String excerpt) {
                log.accept("skipped input that is not JSON (" + Text.capped(problem) + "): " + Text.capped(excerpt));
                failed();
            }

            @Override
            public void duplicateKey(JsonNode value, String path) {
                refuseDuplicate(value, path);
            }
        }).run();
    }

    void handle(JsonNode envelope) {
        JsonNode body = envelope.get("body");
        if (!(body instanceof ObjectNode requestBody) || !envelope.path("src").isTextual()) {
            log.accept("NOT RUN: a value that is not an envelope {src, dest, body} was skipped, no reply sent: "
                    + Text.capped(envelope.toString()));
            failed();
            return;
        }
        String src = envelope.get("src").textValue();
        addressedAs(envelope.path("dest").asText(null));
        JsonNode msgId = requestBody.get("msg_id");
        if (msgId == null || msgId.isNull()) {
            // Maelstrom: a message without msg_id expects no reply. Running it unanswered could change
            // production with no one told, so it is not run at all, and said so loudly.
            log.accept("NOT RUN: a request without msg_id was skipped, no reply sent (give it a msg_id): "
                    + Text.capped(envelope.toString()));
            failed();
            return;
        }
        if (!isWholeNumber(msgId)) {
            send(src, Reply.error(inReplyTo(msgId), ZdmException.malformed("msg_id must be a whole number, not "
                    + Text.capped(msgId.toString()))));
            log.accept("answered error 12 to a msg_id that is not a whole number: " + Text.capped(msgId.toString()));
            failed();
            return;
        }
        // 1.0 is the id 1: the harness's JSON library may write whole numbers as floats.
        requestBody.put("msg_id", msgId.asLong());
        Request request = new Request(src, envelope.path("dest").asText(null), requestBody);
        ObjectNode reply = answer(request);
        send(request.src(), reply);
        if ("error".equals(reply.path("type").asText())) {
            failed();
        }
    }

    /** A key twice: error 12 to the sender where the envelope says who and which request, else a log line. */
    private void refuseDuplicate(JsonNode value, String path) {
        JsonNode body = value.get("body");
        JsonNode msgId = body instanceof ObjectNode b ? b.get("msg_id") : null;
        String problem = "duplicate key " + Text.capped(path) + ": a key may appear once in an object";
        if (value.path("src").isTextual() && msgId != null && !msgId.isNull()) {
            addressedAs(value.path("dest").asText(null));
            send(value.get("src").textValue(), Reply.error(inReplyTo(msgId), ZdmException.malformed(problem)));
            log.accept("answered error 12 to msg_id " + Text.capped(msgId.toString()) + ": " + problem);
        } else {
            log.accept("NOT RUN: " + problem + "; no src and msg_id to answer, no reply sent: "
                    + Text.capped(value.toString()));
        }
        failed();
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
