package dev.zdm.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.handlers.Handlers;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Request;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends requests to the real handlers, as the node would after reading them from stdin: the same
 * parsing, planning and engine, only without the JSON line round trip. Every request carries the
 * run's lock budget, so the target "no application query waits longer than its lock budget" is about
 * a budget the request really asked for.
 */
final class ZdmClient {

    private final Handlers handlers;
    private final Duration lockBudget;
    private final AtomicLong msgIds = new AtomicLong();

    ZdmClient(Handlers handlers, Duration lockBudget) {
        this.handlers = handlers;
        this.lockBudget = lockBudget;
    }

    /** A request body of {@code type} with a fresh msg_id and the lock budget; callers add the rest. */
    ObjectNode body(String type) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("type", type);
        body.put("msg_id", msgIds.incrementAndGet());
        body.put("max_lock_duration_ms", lockBudget.toMillis());
        return body;
    }

    /** The reply body; an error reply arrives as the ZdmException the node would have turned into it. */
    ObjectNode send(ObjectNode body) {
        return handlers.handle(new Request("bench", "zdm", body));
    }

    Duration lockBudget() {
        return lockBudget;
    }

    /** A body as the report prints it: without msg_id, which is noise there. */
    static String show(ObjectNode body) {
        ObjectNode copy = body.deepCopy();
        copy.remove("msg_id");
        return copy.toString();
    }
}
