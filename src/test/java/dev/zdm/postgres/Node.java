package dev.zdm.postgres;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engine;
import dev.zdm.handlers.Handlers;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.time.Duration;

/** The real handlers in front of an engine, answering a body as the node would (errors included). */
final class Node {

    private final Handlers handlers;
    private long msgId;

    Node(Engine engine, Duration lockBudget) {
        this.handlers = Handlers.forEngine(engine, lockBudget);
    }

    ObjectNode send(String bodyJson) {
        try {
            ObjectNode body = (ObjectNode) Json.MAPPER.readTree(bodyJson);
            body.put("msg_id", ++msgId);
            Request request = new Request("admin", "migrations", body);
            try {
                return handlers.handle(request);
            } catch (ZdmException e) {
                return Reply.error(request.msgId(), e);
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
