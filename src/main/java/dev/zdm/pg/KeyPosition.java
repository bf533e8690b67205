package dev.zdm.pg;

import java.util.List;

/**
 * Where a batched job is along its {@link KeyWalk}: the key's values as the server prints them (one per
 * key column, {@code key::text}), or for a walk by blocks the block number. Text holds any key type; the
 * server reads it back as the key column's type, so zdm never compares, orders or parses a key itself
 * (a text key's order is its collation's, which only the server knows).
 */
public record KeyPosition(List<String> values) {

    public KeyPosition {
        values = List.copyOf(values);
        if (values.isEmpty()) {
            throw new IllegalArgumentException("a position has at least one value");
        }
    }

    public static KeyPosition of(String... values) {
        return new KeyPosition(List.of(values));
    }

    @Override
    public String toString() {
        return values.size() == 1 ? values.get(0) : "(" + String.join(", ", values) + ")";
    }
}
