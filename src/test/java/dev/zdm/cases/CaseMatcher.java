package dev.zdm.cases;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;

/**
 * The comparison the course harness makes (and ../shared/bin/check-cases): exact or subset equality
 * of reply bodies, with {"$any": kind} and {"$range": [lo, hi]} as wildcards. Numbers compare by value,
 * so 120 matches 120.0.
 */
final class CaseMatcher {

    private CaseMatcher() {
    }

    static boolean matches(JsonNode expected, JsonNode actual, boolean subset) {
        if (expected.isObject() && expected.size() == 1 && expected.has("$any")) {
            return switch (expected.get("$any").asText()) {
                case "number" -> actual.isNumber();
                case "string" -> actual.isTextual();
                case "bool" -> actual.isBoolean();
                case "array" -> actual.isArray();
                case "object" -> actual.isObject();
                default -> throw new IllegalArgumentException("unknown $any kind " + expected);
            };
        }
        if (expected.isObject() && expected.size() == 1 && expected.has("$range")) {
            double lo = expected.get("$range").get(0).asDouble();
            double hi = expected.get("$range").get(1).asDouble();
            return actual.isNumber() && actual.asDouble() >= lo && actual.asDouble() <= hi;
        }
        if (expected.isObject()) {
            if (!actual.isObject() || (!subset && expected.size() != actual.size())) {
                return false;
            }
            for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!actual.has(key) || !matches(expected.get(key), actual.get(key), subset)) {
                    return false;
                }
            }
            return true;
        }
        if (expected.isArray()) {
            if (!actual.isArray() || expected.size() != actual.size()) {
                return false;
            }
            for (int i = 0; i < expected.size(); i++) {
                if (!matches(expected.get(i), actual.get(i), subset)) {
                    return false;
                }
            }
            return true;
        }
        if (expected.isNumber()) {
            return actual.isNumber() && expected.decimalValue().compareTo(actual.decimalValue()) == 0;
        }
        return expected.equals(actual);
    }
}
