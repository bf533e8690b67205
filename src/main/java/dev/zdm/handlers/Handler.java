package dev.zdm.handlers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.protocol.Request;
import java.util.Set;

/** Answers the requests of one body.type. */
public interface Handler {

    String type();

    /**
     * Every body field it reads besides type and msg_id, declared here once: any other field is error 12
     * before anything runs.
     */
    Set<String> fields();

    ObjectNode handle(Request request);

    /**
     * Reads and checks the request's fields without running anything (error 12), so a migration can
     * refuse a malformed operation before its first one runs. What only planning can tell is left to it.
     */
    default void check(Request request) {
    }

    /**
     * The request's operation as the engine records it (its identity and table), for an operation that
     * has one: how a migration recognizes the operation an interrupted run finished.
     */
    default java.util.Optional<dev.zdm.engine.Operation> operation(Request request) {
        return java.util.Optional.empty();
    }
}
