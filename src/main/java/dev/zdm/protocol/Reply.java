package dev.zdm.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.Map;

/** Builds a reply body with its keys in the order they are put: type, in_reply_to, then the rest. */
public final class Reply {

    private final ObjectNode body = JsonNodeFactory.instance.objectNode();

    private Reply(String type, JsonNode inReplyTo) {
        body.put("type", type);
        body.set("in_reply_to", inReplyTo);
    }

    public static Reply to(Request request, String type) {
        return new Reply(type, JsonNodeFactory.instance.numberNode(request.msgId()));
    }

    public static ObjectNode error(long inReplyTo, ZdmException e) {
        return error(JsonNodeFactory.instance.numberNode(inReplyTo), e);
    }

    /** An error to a request whose msg_id is not a whole number: it is echoed as it came. */
    public static ObjectNode error(JsonNode inReplyTo, ZdmException e) {
        Reply reply = new Reply("error", inReplyTo);
        reply.body.put("code", e.code().code());
        reply.body.put("text", Text.capped(e.getMessage()));
        e.details().forEach(reply::put);
        return reply.body;
    }

    /** Seconds as the shortest decimal: 120 rather than 120.0, 0.1 rather than 0.1000000001. */
    public Reply seconds(String key, double seconds) {
        BigDecimal value = new BigDecimal(Double.toString(seconds)).stripTrailingZeros();
        if (value.scale() <= 0) {
            body.put(key, value.longValueExact());
        } else {
            body.put(key, value);
        }
        return this;
    }

    public Reply put(String key, Object value) {
        // Scalars directly: the tree conversion loads Jackson's serializers, a tenth of a second at start.
        if (value instanceof String text) {
            body.put(key, text);
        } else if (value instanceof Boolean flag) {
            body.put(key, flag);
        } else if (value instanceof Long || value instanceof Integer) {
            body.put(key, ((Number) value).longValue());
        } else {
            body.set(key, Json.MAPPER.valueToTree(value));
        }
        return this;
    }

    public Reply putAll(Map<String, ?> values) {
        values.forEach(this::put);
        return this;
    }

    public ObjectNode body() {
        return body;
    }
}
