package dev.zdm.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A request body with typed, checked access to its fields. Every accessor answers a missing or
 * mistyped field with error 12 naming the field, so handlers never see a half-valid request.
 */
public record Request(String src, String dest, ObjectNode body) {

    public String type() {
        return body.path("type").asText();
    }

    public long msgId() {
        return body.path("msg_id").asLong();
    }

    /**
     * Error 12 for a field not in {@code known}: a field zdm does not read (a misspelling, a guess such as
     * dry_run) must not be ignored, or a request that looks safe changes production. type and msg_id are
     * always known.
     */
    public void onlyFields(Collection<String> known) {
        for (String field : (Iterable<String>) () -> body.fieldNames()) {
            if (!field.equals("type") && !field.equals("msg_id") && !known.contains(field)) {
                throw ZdmException.malformed("unknown field '" + Text.capped(field) + "' in " + Text.capped(type())
                        + hint(field) + "; known: " + String.join(", ", known));
            }
        }
    }

    private static String hint(String field) {
        String plain = field.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z]", "");
        return plain.equals("dryrun") || plain.equals("noop") || plain.equals("preview") || plain.equals("whatif")
                ? " (plan: true answers the plan and changes nothing)" : "";
    }

    public boolean has(String field) {
        JsonNode node = body.get(field);
        return node != null && !node.isNull();
    }

    public JsonNode raw(String field) {
        return body.get(field);
    }

    public String string(String field) {
        JsonNode node = required(field);
        if (!node.isTextual()) {
            throw ZdmException.malformed(field + " must be a string");
        }
        return node.asText();
    }

    public String string(String field, String fallback) {
        return has(field) ? string(field) : fallback;
    }

    public boolean bool(String field, boolean fallback) {
        if (!has(field)) {
            return fallback;
        }
        JsonNode node = body.get(field);
        if (!node.isBoolean()) {
            throw ZdmException.malformed(field + " must be true or false");
        }
        return node.asBoolean();
    }

    /** A whole number within [min, max]; 1000.0 counts as whole. */
    public long integer(String field, long min, long max) {
        JsonNode node = required(field);
        if (!node.isNumber() || (node.isFloatingPointNumber() && node.asDouble() != Math.rint(node.asDouble()))) {
            throw ZdmException.malformed(field + " must be a whole number");
        }
        if (!node.canConvertToLong()) {
            throw ZdmException.malformed(field + " is out of range");
        }
        long value = node.asLong();
        if (value < min || value > max) {
            throw ZdmException.malformed(field + " must be between " + min + " and " + max + ", not " + value);
        }
        return value;
    }

    public Long integer(String field, long min, long max, Long fallback) {
        return has(field) ? Long.valueOf(integer(field, min, max)) : fallback;
    }

    public Double number(String field, double min, double max, Double fallback) {
        if (!has(field)) {
            return fallback;
        }
        JsonNode node = body.get(field);
        if (!node.isNumber()) {
            throw ZdmException.malformed(field + " must be a number");
        }
        double value = node.asDouble();
        if (!(value >= min && value <= max)) {
            throw ZdmException.malformed(field + " must be between " + min + " and " + max);
        }
        return value;
    }

    public List<String> strings(String field) {
        JsonNode node = required(field);
        if (!node.isArray() || node.isEmpty()) {
            throw ZdmException.malformed(field + " must be a non-empty array of strings");
        }
        List<String> values = new ArrayList<>();
        for (JsonNode item : node) {
            if (!item.isTextual()) {
                throw ZdmException.malformed(field + " must be a non-empty array of strings");
            }
            values.add(item.asText());
        }
        return values;
    }

    /** An object whose values are all strings, in the order given. */
    public Map<String, String> stringMap(String field) {
        JsonNode node = required(field);
        if (!node.isObject() || node.isEmpty()) {
            throw ZdmException.malformed(field + " must be a non-empty object of strings");
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (var entry : node.properties()) {
            if (!entry.getValue().isTextual()) {
                throw ZdmException.malformed(field + "." + entry.getKey() + " must be a string");
            }
            values.put(entry.getKey(), entry.getValue().asText());
        }
        return values;
    }

    private JsonNode required(String field) {
        if (!has(field)) {
            throw ZdmException.malformed(field + " is missing");
        }
        return body.get(field);
    }
}
