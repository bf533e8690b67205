package dev.zdm.fidelity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.protocol.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * One fuzzed scenario: a users table (id, email text, name text) keyed as {@code key} says, of
 * {@code rows} rows, then the messages a client sends in order (application transactions and
 * migrations). It is what a disagreement shrinks to and what the report prints, one request body per line.
 */
record Script(String id, int rows, Key key, List<ObjectNode> messages, TableShapes.Shape shape) {

    /** How users is keyed: the table's DDL and its rows' ids. */
    enum Key {
        BIGINT("id bigint PRIMARY KEY, email text, name text", "g"),
        UUID("id uuid PRIMARY KEY, email text, name text", "md5(g::text)::uuid"),
        TEXT("id text PRIMARY KEY, email text, name text", "'k' || g"),
        COMPOSITE("id bigint, email text, name text, PRIMARY KEY (id, email)", "g"),
        UNIQUE_NOT_NULL("id bigint NOT NULL UNIQUE, email text, name text", "g"),
        NONE("id bigint, email text, name text", "g");

        final String columns;
        final String idOfRow;

        Key(String columns, String idOfRow) {
            this.columns = columns;
            this.idOfRow = idOfRow;
        }

        /** Whether a where on the key's range ("id <= 500") is about a single integer key. */
        boolean integer() {
            return this == BIGINT || this == UNIQUE_NOT_NULL;
        }
    }

    Script {
        messages = List.copyOf(messages);
    }

    Script(String id, int rows, Key key, List<ObjectNode> messages) {
        this(id, rows, key, messages, TableShapes.Shape.KEYS);
    }

    Script(String id, int rows, List<ObjectNode> messages) {
        this(id, rows, Key.BIGINT, messages);
    }

    Script withRows(int fewer) {
        return new Script(id, fewer, key, messages, shape);
    }

    Script withMessages(List<ObjectNode> other) {
        return new Script(id, rows, key, other, shape);
    }

    Script without(int index) {
        List<ObjectNode> fewer = new ArrayList<>(messages);
        fewer.remove(index);
        return withMessages(fewer);
    }

    Script replacing(int index, ObjectNode message) {
        List<ObjectNode> changed = new ArrayList<>(messages);
        changed.set(index, message);
        return withMessages(changed);
    }

    /**
     * Whether the outcome depends on data the simulator cannot see: whether a column the script added
     * holds duplicates for a unique index (a build that fails with 22 on the server changes all that
     * follows), or what a shape's rows hold ({@link TableShapes.Shape#dependsOnData}). Such scripts are counted apart and never fail the build. (A condition off the key only
     * changes a job's counts, which are then not compared: {@link ScriptRunner#countsOfData}.)
     */
    boolean dependsOnData() {
        return messages.stream().anyMatch(m -> "create_index".equals(m.path("type").asText())
                && m.path("unique").asBoolean() && m.path("column").asText().equals("status")
                || shape.dependsOnData(m, rows));
    }

    boolean any(String type) {
        return messages.stream().anyMatch(m -> type.equals(m.path("type").asText()));
    }

    /** As a jsonl case: a comment with the table, then each message as an envelope. */
    String jsonl() {
        StringBuilder s = new StringBuilder("# ").append(id);
        if (shape == TableShapes.Shape.KEYS) {
            s.append(": users (").append(key.columns).append(") with ").append(rows).append(" rows\n");
        } else {
            s.append(": shape ").append(shape.name().toLowerCase(java.util.Locale.ROOT)).append(", ").append(rows)
                    .append(" rows (on PostgreSQL 12+): ").append(String.join("; ", shape.setup(rows, key, 12))).append('\n');
        }
        int msgId = 1;
        for (ObjectNode m : messages) {
            ObjectNode body = m.deepCopy();
            body.put("msg_id", msgId++);
            ObjectNode envelope = Json.MAPPER.createObjectNode();
            envelope.put("src", "c1");
            envelope.put("dest", "n1");
            envelope.set("body", body);
            s.append(envelope).append('\n');
        }
        return s.toString();
    }
}
