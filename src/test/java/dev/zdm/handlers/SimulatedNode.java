package dev.zdm.handlers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.ServerVersion;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import dev.zdm.simulator.SimulatorEngine;
import java.time.Duration;

/** The handlers over a fresh simulator, driven with JSON bodies as the node would pass them. */
final class SimulatedNode {

    static final Duration BUDGET = Duration.ofMillis(2000);

    final SimulatorEngine engine;
    final Handlers handlers;
    private long msgId;

    SimulatedNode(ServerVersion version, long rows) {
        engine = SimulatorEngine.withUsersTable(version, rows);
        handlers = Handlers.forEngine(engine, BUDGET);
    }

    SimulatedNode() {
        this(ServerVersion.DEFAULT, 6_000_000);
    }

    /** Sends {@code json} (a body without msg_id) and returns the reply body. */
    ObjectNode send(String json) {
        try {
            ObjectNode body = (ObjectNode) Json.MAPPER.readTree(json);
            body.put("msg_id", ++msgId);
            return handlers.handle(new Request("admin", "migrations", body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    /** Sends and expects an error: returns it. */
    ZdmException fails(String json) {
        try {
            ObjectNode reply = send(json);
            throw new AssertionError("expected an error, got " + reply);
        } catch (ZdmException e) {
            return e;
        }
    }
}
