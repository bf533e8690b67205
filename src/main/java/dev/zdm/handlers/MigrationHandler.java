package dev.zdm.handlers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engine;
import dev.zdm.engine.MigrationRecord;
import dev.zdm.engine.Migrations;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.JsonLines;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * migration {name, operations: [request body, …]} → migration_applied {name, applied, applied_before,
 * operations: [{operation, type, table, status, reply}]}. Runs the operations in order, each through its
 * own handler exactly as a single request, and records after each one how far the migration got; stops
 * at the first failure, answering that operation's error code with every operation's outcome. The same
 * migration sent again resumes at the first operation not applied; a finished one answers its recorded
 * outcome and runs nothing. The operations already applied may not change (22); the rest may, so the
 * cause of a failure can be fixed in the migration itself.
 */
public final class MigrationHandler implements Handler {

    static final int MAX_NAME_LENGTH = 200;
    static final int MAX_OPERATIONS = 1_000;
    /** The outcome of an operation an interrupted run finished: its own reply was never recorded. */
    static final String FINISHED_UNRECORDED = "{\"type\":\"finished_unrecorded\",\"text\":\"finished by an"
            + " earlier run that ended before its reply was recorded; zdm.operations has it done\"}";

    private final Migrations migrations;
    private final Map<String, Handler> operations = new LinkedHashMap<>();

    /** {@code operations}: the handlers of the message types a migration may hold. */
    public MigrationHandler(Engine engine, List<Handler> operations) {
        this.migrations = engine.migrations();
        operations.forEach(h -> this.operations.put(h.type(), h));
    }

    @Override
    public String type() {
        return "migration";
    }

    @Override
    public java.util.Set<String> fields() {
        return java.util.Set.of("name", "operations");
    }

    /** One operation as sent: its body without msg_id (the migration's own is its reply's), and its checksum. */
    private record Sent(ObjectNode body, String json, String checksum) {

        String type() {
            return body.get("type").textValue();
        }
    }

    @Override
    public ObjectNode handle(Request request) {
        String name = name(request);
        List<Sent> sent = operations(request);
        migrations.claim(name);
        try {
            MigrationRecord earlier = migrations.find(name).orElse(null);
            int done = earlier == null ? 0 : earlier.operationsDone();
            refuseChanged(name, earlier, sent);
            if (earlier != null && earlier.state() == MigrationRecord.State.DONE) {
                return applied(request, name, sent, earlier.outcomes(), List.of()).body();
            }
            for (int i = done; i < sent.size(); i++) {
                check(request, sent, i);
            }
            return run(request, name, sent, earlier);
        } finally {
            migrations.release(name);
        }
    }

    private ObjectNode run(Request request, String name, List<Sent> sent, MigrationRecord earlier) {
        List<String> before = new ArrayList<>(earlier == null ? List.of() : earlier.outcomes());
        if (earlier != null && finishedUnrecorded(request, name, sent, before.size())) {
            before.add(FINISHED_UNRECORDED);
        }
        List<String> outcomes = new ArrayList<>(before);
        String startedAt = earlier == null ? null : earlier.startedAt();
        List<String> bodies = sent.stream().map(Sent::json).toList();
        List<String> checksums = sent.stream().map(Sent::checksum).toList();
        migrations.save(new MigrationRecord(name, bodies, checksums, MigrationRecord.State.RUNNING, outcomes, null,
                startedAt, null));
        List<String> now = new ArrayList<>();
        for (int i = before.size(); i < sent.size(); i++) {
            ObjectNode reply = dispatch(request, name, sent, i);
            if ("error".equals(reply.path("type").asText())) {
                migrations.save(new MigrationRecord(name, bodies, checksums, MigrationRecord.State.FAILED, outcomes,
                        JsonLines.write(reply), startedAt, null));
                throw stopped(name, sent, before, now, i, reply);
            }
            String json = JsonLines.write(reply);
            outcomes.add(json);
            now.add(json);
            migrations.save(new MigrationRecord(name, bodies, checksums, MigrationRecord.State.RUNNING, outcomes, null,
                    startedAt, null));
        }
        migrations.save(new MigrationRecord(name, bodies, checksums, MigrationRecord.State.DONE, outcomes, null,
                startedAt, null));
        return applied(request, name, sent, before, now).body();
    }

    /**
     * A run that ended (a crash, a kill) or lost its connection (13) after its operation finished and
     * before its reply was recorded: the ledger has the operation done since the migration last moved on.
     * Run again, an add_column or create_index would meet its own column or index (21).
     */
    private boolean finishedUnrecorded(Request migration, String name, List<Sent> sent, int i) {
        Sent next = sent.get(i);
        return operations.get(next.type()).operation(placed(migration, name, next, i))
                .map(operation -> migrations.finishedSinceRecorded(operation, name))
                .orElse(false);
    }

    /** The operation through its own handler, answered as the node answers it: a reply, or an error reply. */
    private ObjectNode dispatch(Request migration, String name, List<Sent> sent, int i) {
        Sent operation = sent.get(i);
        ObjectNode reply;
        try {
            reply = operations.get(operation.type()).handle(placed(migration, name, operation, i));
        } catch (ZdmException e) {
            reply = Reply.error(migration.msgId(), e);
        } catch (RuntimeException e) {
            // As the node answers a bug or a lost server: the outcome of that operation is unknown.
            reply = Reply.error(migration.msgId(), new ZdmException(ErrorCode.CRASH,
                    "internal error, the operation may or may not have happened: " + e, Map.of(), e));
        }
        reply.remove("in_reply_to");
        return reply;
    }

    /**
     * The operation as it runs: with the migration's msg_id and its place in the migration, which makes
     * it the migration's own operation (see {@link PlanHandler#MIGRATION_PLACE}), added after its fields
     * were checked, so that a sender cannot give it.
     */
    private static Request placed(Request migration, String name, Sent operation, int i) {
        ObjectNode body = operation.body().deepCopy();
        body.put("msg_id", migration.msgId());
        body.put(PlanHandler.MIGRATION_PLACE, (i + 1) + ":" + name);
        return new Request(migration.src(), migration.dest(), body);
    }

    private Reply applied(Request request, String name, List<Sent> sent, List<String> before, List<String> now) {
        return Reply.to(request, "migration_applied")
                .put("name", name)
                .put("applied", (long) now.size())
                .put("applied_before", (long) before.size())
                .put("operations", outcomes(sent, before, now, -1, null));
    }

    private static ZdmException stopped(String name, List<Sent> sent, List<String> before, List<String> now,
                                        int failed, ObjectNode error) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("name", name);
        details.put("failed_operation", failed + 1);
        details.put("applied", now.size());
        details.put("applied_before", before.size());
        details.put("operations", outcomes(sent, before, now, failed, error));
        int next = failed + 2;
        String left = next > sent.size() ? "" : next == sent.size() ? "; operation " + next + " not run"
                : "; operations " + next + " to " + sent.size() + " not run";
        return new ZdmException(code(error.path("code").asInt()),
                "migration " + name + " stopped at operation " + (failed + 1) + " of " + sent.size() + " ("
                        + sent.get(failed).type() + "): " + error.path("text").asText() + left
                        + "; send the same migration again to resume there", details, null);
    }

    private static ErrorCode code(int code) {
        for (ErrorCode c : ErrorCode.values()) {
            if (c.code() == code) {
                return c;
            }
        }
        throw new IllegalStateException("an error reply with code " + code + ", which zdm never answers");
    }

    private static ArrayNode outcomes(List<Sent> sent, List<String> before, List<String> now, int failed,
                                      ObjectNode error) {
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        for (int i = 0; i < sent.size(); i++) {
            ObjectNode item = list.addObject();
            item.put("operation", i + 1);
            item.put("type", sent.get(i).type());
            JsonNode table = sent.get(i).body().get("table");
            if (table != null && table.isTextual()) {
                item.put("table", table.textValue());
            }
            if (i < before.size()) {
                item.put("status", "applied_before");
                item.set("reply", parse(before.get(i)));
            } else if (i < before.size() + now.size()) {
                item.put("status", "applied");
                item.set("reply", parse(now.get(i - before.size())));
            } else if (i == failed) {
                item.put("status", "failed");
                item.set("reply", error);
            } else {
                item.put("status", "not_run");
            }
        }
        return list;
    }

    private static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a recorded reply is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The operations applied are the migration's history: sent again, they must be the same. A finished
     * migration is not extended either; what comes after it is a new migration.
     */
    private static void refuseChanged(String name, MigrationRecord earlier, List<Sent> sent) {
        if (earlier == null) {
            return;
        }
        boolean finished = earlier.state() == MigrationRecord.State.DONE;
        int fixed = finished ? earlier.checksums().size() : earlier.operationsDone();
        for (int i = 0; i < fixed; i++) {
            if (i >= sent.size() || !earlier.checksums().get(i).equals(sent.get(i).checksum())) {
                throw ZdmException.precondition("migration " + name + " was " + (finished ? "applied" : "applied up to"
                        + " operation " + fixed) + " with other operations: operation " + (i + 1) + " was "
                        + earlier.operations().get(i) + (i < sent.size() ? ", not " + sent.get(i).json() : ", now missing")
                        + "; what was applied is not edited: " + (finished ? "write a new migration"
                        : "change only the operations after " + fixed));
            }
        }
        if (finished && sent.size() != fixed) {
            throw ZdmException.precondition("migration " + name + " was applied with " + fixed + " operations, not "
                    + sent.size() + "; a finished migration is not extended: write a new migration");
        }
    }

    /** An operation's fields, checked before the migration's first operation runs. */
    private void check(Request migration, List<Sent> sent, int i) {
        ObjectNode body = sent.get(i).body().deepCopy();
        body.put("msg_id", migration.msgId());
        try {
            Handler handler = operations.get(sent.get(i).type());
            Request operation = new Request(migration.src(), migration.dest(), body);
            operation.onlyFields(handler.fields());
            handler.check(operation);
        } catch (ZdmException e) {
            if (e.code() == ErrorCode.KEY_DOES_NOT_EXIST && madeEarlier(sent, i)) {
                // Checked again when it runs, against the catalog the earlier operations made.
                return;
            }
            throw new ZdmException(e.code(), "operation " + (i + 1) + " of " + sent.size() + " (" + sent.get(i).type()
                    + "): " + e.getMessage() + "; nothing run", e.details(), e);
        }
    }

    /**
     * Whether drop_index operation {@code i} names an index an earlier operation of the migration makes:
     * a create_index's {@code index}, a unique or primary_key add_constraint's {@code constraint}, a
     * create_table's primary key ({@code TABLE_pkey}). The catalog before the migration has none of them.
     */
    private static boolean madeEarlier(List<Sent> sent, int i) {
        ObjectNode drop = sent.get(i).body();
        if (!"drop_index".equals(sent.get(i).type()) || !drop.path("index").isTextual()) {
            return false;
        }
        String index = drop.get("index").textValue();
        for (int j = 0; j < i; j++) {
            ObjectNode body = sent.get(j).body();
            if (!drop.path("schema").equals(body.path("schema"))) {
                continue;
            }
            String made = switch (sent.get(j).type()) {
                case "create_index" -> body.path("index").textValue();
                case "add_constraint" -> java.util.Set.of("unique", "primary_key")
                        .contains(body.path("constraint_type").asText()) ? body.path("constraint").textValue() : null;
                case "create_table" -> body.path("table").isTextual() ? body.get("table").textValue() + "_pkey" : null;
                default -> null;
            };
            if (index.equals(made)) {
                return true;
            }
        }
        return false;
    }

    private static String name(Request request) {
        String name = request.string("name");
        if (name.isBlank() || name.length() > MAX_NAME_LENGTH || name.chars().anyMatch(Character::isISOControl)) {
            throw ZdmException.malformed("name must be 1 to " + MAX_NAME_LENGTH
                    + " characters without control characters");
        }
        return name;
    }

    private List<Sent> operations(Request request) {
        JsonNode list = request.raw("operations");
        if (list == null || !list.isArray() || list.isEmpty() || list.size() > MAX_OPERATIONS) {
            throw ZdmException.malformed("operations must be an array of 1 to " + MAX_OPERATIONS + " request bodies");
        }
        List<Sent> sent = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String where = "operation " + (i + 1) + " of " + list.size();
            if (!(list.get(i) instanceof ObjectNode operation)) {
                throw ZdmException.malformed(where + " must be a request body {type, …}");
            }
            JsonNode type = operation.get("type");
            if (type == null || !type.isTextual()) {
                throw ZdmException.malformed(where + ": type is missing");
            }
            if (!operations.containsKey(type.textValue())) {
                throw new ZdmException(ErrorCode.NOT_SUPPORTED, where + ": a migration runs "
                        + String.join(", ", operations.keySet()) + ", not '" + type.textValue() + "'");
            }
            if (operation.has("plan")) {
                // A planned operation changes nothing, yet would be recorded as applied and never run again.
                throw ZdmException.malformed(where + ": plan is for a single request; a migration applies its"
                        + " operations");
            }
            ObjectNode body = operation.deepCopy();
            // Its own msg_id would name a reply that never comes: the migration's reply answers it.
            body.remove("msg_id");
            sent.add(new Sent(body, JsonLines.write(body), Checksum.of(body)));
        }
        return sent;
    }
}
