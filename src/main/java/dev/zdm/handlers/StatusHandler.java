package dev.zdm.handlers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.engine.Blocker;
import dev.zdm.engine.Engine;
import dev.zdm.engine.MigrationRecord;
import dev.zdm.engine.OperationStatus;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * status {limit? = 50} → status_ok {engine, operation_counts, operations, migrations}: what the ledger
 * holds (on the simulator, what the run has done), unfinished first, then the newest, at most
 * {@code limit} of each. A running operation names the backend that owns it and the backends blocking
 * that one; a running one with no owner, or a migration with no runner, was interrupted and resumes when
 * sent again.
 */
public final class StatusHandler implements Handler {

    static final long DEFAULT_LIMIT = 50;
    static final long MAX_LIMIT = 10_000;

    private final Engine engine;

    public StatusHandler(Engine engine) {
        this.engine = engine;
    }

    @Override
    public String type() {
        return "status";
    }

    @Override
    public java.util.Set<String> fields() {
        return java.util.Set.of("limit");
    }

    @Override
    public void check(Request request) {
        request.integer("limit", 1, MAX_LIMIT, DEFAULT_LIMIT);
    }

    @Override
    public com.fasterxml.jackson.databind.node.ObjectNode handle(Request request) {
        int limit = (int) (long) request.integer("limit", 1, MAX_LIMIT, DEFAULT_LIMIT);
        List<Map<String, Object>> operations = engine.operations(limit).stream().map(OperationStatus::asMap).toList();
        List<Map<String, Object>> migrations = new ArrayList<>();
        for (MigrationRecord m : engine.migrations().list()) {
            if (migrations.size() == limit) {
                break;
            }
            migrations.add(migration(m));
        }
        return Reply.to(request, "status_ok")
                .put("engine", engine.name())
                .put("operation_counts", engine.operationCounts())
                .put("operations", operations)
                .put("migrations", migrations)
                .body();
    }

    private Map<String, Object> migration(MigrationRecord m) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("name", m.name());
        map.put("state", m.state().sql());
        map.put("operations_done", m.operationsDone());
        map.put("operations", m.operations().size());
        if (m.failure() != null) {
            JsonNode failure = parse(m.failure());
            map.put("failed_operation", m.operationsDone() + 1);
            map.put("error", Map.of("code", failure.path("code").asInt(), "text", failure.path("text").asText()));
        }
        List<Map<String, Object>> left = new ArrayList<>();
        for (int i = m.operationsDone(); i < m.operations().size(); i++) {
            JsonNode body = parse(m.operations().get(i));
            Map<String, Object> op = new LinkedHashMap<>();
            op.put("operation", i + 1);
            op.put("type", body.path("type").asText());
            if (body.path("table").isTextual()) {
                op.put("table", body.get("table").textValue());
            }
            if (body.path("schema").isTextual()) {
                op.put("schema", body.get("schema").textValue());
            }
            left.add(op);
        }
        map.put("left", left);
        if (m.state() == MigrationRecord.State.RUNNING) {
            // No runner: the node applying it ended mid-way; sending it again resumes it.
            Optional<Blocker> runner = engine.migrations().runner(m.name());
            map.put("runner", runner.map(Blocker::asMap).orElse(null));
        }
        if (m.startedAt() != null) {
            map.put("started_at", m.startedAt());
            map.put("updated_at", m.updatedAt());
        }
        return map;
    }

    private static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a recorded migration is not JSON: " + e.getOriginalMessage(), e);
        }
    }
}
