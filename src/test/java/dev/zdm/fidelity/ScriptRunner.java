package dev.zdm.fidelity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engine;
import dev.zdm.postgres.run.BatchSizer;
import dev.zdm.handlers.Handlers;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a script on one engine through the node's own handlers and keeps what can be compared: each
 * reply without its durations, and the table's catalog afterwards.
 */
final class ScriptRunner {

    /** The budget of a message that names none; scripts always name one. */
    static final Duration DEFAULT_BUDGET = Duration.ofMillis(2000);
    /**
     * Durations, the server's own wording, the figures only a real server has (pid, ages), and what a
     * prediction rests on ({@code assumptions}: explain's account of the simulator's own blind spots,
     * which an engine that sees everything has none of).
     */
    static final Set<String> NOT_COMPARED = Set.of("msg_id", "in_reply_to", "duration_seconds", "waited_ms", "text",
            "observed", "pid", "transaction_age_ms", "assumptions");

    static final String UNSEEN_LOCK = " lock=none seen";
    /**
     * Whether a transaction opened for a while has ended by the time it is closed depends on how long
     * the migrations in between took, and durations are not compared.
     */
    static final String DURATION_DEPENDENT = "(not compared: the transaction may have ended by its duration)";

    private static boolean closesATimedTransaction(Script script, ObjectNode body) {
        return body.path("type").asText().equals("close_transaction")
                && script.messages().stream().anyMatch(m -> m.has("duration_seconds"));
    }

    /** What came of a script: one line per reply, the strongest lock per migration, the catalog. */
    record Run(List<String> replies, String catalog) {
        List<String> differences(Run postgres) {
            List<String> diffs = new ArrayList<>();
            for (int i = 0; i < Math.max(replies.size(), postgres.replies.size()); i++) {
                String mine = i < replies.size() ? replies.get(i) : "-";
                String theirs = i < postgres.replies.size() ? postgres.replies.get(i) : "-";
                if (theirs.startsWith("data_migrated") && theirs.endsWith(UNSEEN_LOCK)) {
                    // A job's lock is read in its own transaction once a batch statement ran (TableProbe), not
                    // polled: "none seen" there means none was taken, and that is compared.
                    theirs = theirs.substring(0, theirs.length() - UNSEEN_LOCK.length()) + " lock=none";
                } else if (theirs.endsWith(UNSEEN_LOCK)) {
                    // pg_locks is polled: a statement over in less than a poll shows no lock, which is not
                    // "took none". Only a lock the server was seen holding is compared.
                    theirs = theirs.substring(0, theirs.length() - UNSEEN_LOCK.length());
                    mine = mine.replaceFirst(" lock=[A-Za-z ]+$", "");
                }
                if (!mine.equals(theirs)) {
                    diffs.add("message " + (i + 1) + ": simulator " + mine + " | PostgreSQL " + theirs);
                }
            }
            if (!catalog.equals(postgres.catalog)) {
                diffs.add("catalog: simulator " + catalog + " | PostgreSQL " + postgres.catalog);
            }
            return diffs;
        }
    }

    private ScriptRunner() {
    }

    static Run run(Engine engine, Script script, Supplier<String> catalog) {
        Handlers handlers = Handlers.forEngine(engine, DEFAULT_BUDGET);
        List<String> replies = new ArrayList<>();
        int msgId = 1;
        boolean opened = false;
        for (ObjectNode message : script.messages()) {
            ObjectNode body = message.deepCopy();
            body.put("msg_id", msgId++);
            boolean migration = !body.path("type").asText().endsWith("_transaction");
            if (migration) {
                body.put("explain", true);
            }
            opened |= body.path("type").asText().equals("open_transaction");
            ObjectNode reply;
            try {
                reply = handlers.handle(new Request("fuzz", "zdm", body));
            } catch (ZdmException e) {
                reply = Reply.error(body.get("msg_id").asLong(), e);
            }
            replies.add(closesATimedTransaction(script, body) ? DURATION_DEPENDENT
                    : timeSizedBatches(body, countsOfData(body, normalise(reply), script.shape().keyLeadsWithId())));
        }
        if (opened) {
            closeQuietly(handlers, msgId);
        }
        return new Run(replies, catalog.get());
    }

    /**
     * A batch_size above the first batch's size is reached by batches that grow with their measured
     * time ({@code BatchSizer}), so on a real server the count depends on durations, which are not
     * compared. What holds whatever the durations is compared instead: never fewer batches than
     * total_rows / batch_size. Up to the first batch's size every fast batch is exactly batch_size,
     * and the count is compared as it is.
     */
    static String timeSizedBatches(ObjectNode request, String reply) {
        long batchSize = request.path("batch_size").asLong(0);
        Matcher m = ROWS_AND_BATCHES.matcher(reply);
        if (batchSize <= BatchSizer.FIRST_BATCH || !m.find()) {
            return reply;
        }
        long rows = Long.parseLong(m.group(1));
        long batches = Long.parseLong(m.group(2));
        String fact = batches >= (rows + batchSize - 1) / batchSize ? "at least total_rows/batch_size"
                : batches + " (fewer than total_rows/batch_size)";
        return reply.substring(0, m.start(2)) + fact + reply.substring(m.end(2));
    }

    /**
     * Which rows a condition off the key matches is data the simulator cannot see (it assumes all):
     * the counts of such a job are not compared, everything else about it is.
     */
    static String countsOfData(ObjectNode request, String reply) {
        return countsOfData(request, reply, true);
    }

    /** As above; a condition on id is one on the key's range only where id leads the key. */
    static String countsOfData(ObjectNode request, String reply, boolean keyLeadsWithId) {
        if (!request.has("where") || keyLeadsWithId && request.path("where").asText().startsWith("id ")) {
            return reply;
        }
        return ROWS_AND_BATCHES.matcher(reply).replaceAll("total_rows=(data) batches=(data)");
    }

    private static final Pattern ROWS_AND_BATCHES = Pattern.compile("total_rows=(\\d+) batches=(\\d+)");

    /**
     * The reply as "type key=value ...", keys in the reply's order, the strongest lock from explain's
     * observed part; blocked_by's entries keep what both engines know (session, application_name,
     * state).
     */
    static String normalise(ObjectNode reply) {
        StringBuilder s = new StringBuilder(reply.path("type").asText());
        if (reply.has("code")) {
            s.append(' ').append(reply.get("code").asInt());
        }
        Iterator<Map.Entry<String, JsonNode>> fields = reply.fields();
        while (fields.hasNext()) {
            var field = fields.next();
            String key = field.getKey();
            if (key.equals("type") || key.equals("code") || NOT_COMPARED.contains(key)) {
                continue;
            }
            s.append(' ').append(key).append('=').append(withoutUncomparable(field.getValue()));
        }
        String lock = reply.path("observed").path("strongest_lock").asText(null);
        if (lock != null) {
            s.append(" lock=").append(lock);
        }
        return s.toString();
    }

    private static JsonNode withoutUncomparable(JsonNode value) {
        JsonNode copy = value.deepCopy();
        strip(copy);
        return copy;
    }

    private static void strip(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove(NOT_COMPARED);
            object.forEach(ScriptRunner::strip);
        } else if (node.isArray()) {
            node.forEach(ScriptRunner::strip);
        }
    }

    /** The application transaction may have ended by itself (its duration passed): nothing to close then. */
    private static void closeQuietly(Handlers handlers, int msgId) {
        ObjectNode body = dev.zdm.protocol.Json.MAPPER.createObjectNode();
        body.put("type", "close_transaction");
        body.put("msg_id", msgId);
        body.put("session", ScriptGenerator.SESSION);
        try {
            handlers.handle(new Request("fuzz", "zdm", body));
        } catch (ZdmException e) {
            if (e.code() != ErrorCode.KEY_DOES_NOT_EXIST) {
                throw e;
            }
        }
    }
}
