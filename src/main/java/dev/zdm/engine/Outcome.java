package dev.zdm.engine;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What running a plan did. The simulator fills it from its model, the PostgreSQL engine from what it
 * observed; {@code observed} holds engine-specific facts that explain shows (e.g. strongest_lock).
 */
public record Outcome(double durationSeconds, boolean tableLocked, boolean tableRewritten, long rowsUpdated,
                      int batches, Map<String, Object> observed) {

    public Outcome {
        // In the order the engine wrote them: Map.copyOf's order changes from one JVM to the next.
        observed = Collections.unmodifiableMap(new LinkedHashMap<>(observed));
    }
}
