package dev.zdm.fidelity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Engine;
import dev.zdm.handlers.Handlers;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.time.Duration;
import java.util.function.Supplier;

/** Runs one scenario on one engine, through the real handlers, and records what came of it. */
final class ScenarioRunner {

    static final SqlName USERS = SqlName.of("users");
    /** The default budget: it outlasts the application transaction, so the migration waits it out. */
    static final Duration DEFAULT_BUDGET = Duration.ofMillis(3000);
    /**
     * A wait shorter than this is scheduling noise on a real server (the observer polls); the
     * scenarios' waits are hundreds of milliseconds.
     */
    static final long WAITED_MS = 50;
    private static final String SESSION = "app";

    private ScenarioRunner() {
    }

    static Observation run(Engine engine, Scenario scenario, Supplier<String> catalog) {
        Handlers handlers = Handlers.forEngine(engine, DEFAULT_BUDGET);
        if (scenario.blocker()) {
            engine.openTransaction(new AppTransaction(SESSION, USERS, scenario.blockerMode(), Scenario.BLOCKER_SECONDS));
        }
        ObjectNode body = request(scenario);
        String reply;
        Boolean locked = null;
        Boolean rewritten = null;
        String lock = null;
        boolean waited;
        try {
            ObjectNode answer = handlers.handle(new Request("fidelity", "zdm", body));
            reply = answer.get("type").asText();
            locked = answer.has("table_locked") ? answer.get("table_locked").asBoolean() : null;
            rewritten = answer.has("table_rewritten") ? answer.get("table_rewritten").asBoolean() : null;
            JsonNode observed = answer.path("observed");
            lock = observed.path("strongest_lock").asText(null);
            waited = observed.path("lock_wait_ms").asLong() >= WAITED_MS;
        } catch (ZdmException e) {
            reply = "error " + e.code().code();
            waited = e.code() == ErrorCode.ABORT;
        } finally {
            endBlocker(engine, scenario);
        }
        return new Observation(reply, locked, rewritten, lock, waited, catalog.get());
    }

    private static ObjectNode request(Scenario scenario) {
        try {
            ObjectNode body = (ObjectNode) Json.MAPPER.readTree(scenario.requestJson());
            body.put("msg_id", 1);
            body.put("explain", true);
            if (scenario.budgetMs() != null) {
                body.put("max_lock_duration_ms", scenario.budgetMs());
            }
            return body;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(scenario.requestJson(), e);
        }
    }

    /** The transaction may have ended by itself (its duration passed): then there is nothing to close. */
    private static void endBlocker(Engine engine, Scenario scenario) {
        if (!scenario.blocker()) {
            return;
        }
        try {
            engine.closeTransaction(SESSION);
        } catch (ZdmException e) {
            if (e.code() != ErrorCode.KEY_DOES_NOT_EXIST) {
                throw e;
            }
        }
    }
}
