package dev.zdm.handlers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.protocol.Request;

/** Answers the requests of one body.type. */
public interface Handler {

    String type();

    ObjectNode handle(Request request);

    /**
     * Reads and checks the request's fields without running anything (error 12), so a migration can
     * refuse a malformed operation before its first one runs. What only planning can tell is left to it.
     */
    default void check(Request request) {
    }

    /**
     * The request's operation identity as the engine records it (see {@code Operation#identity}), for
     * an operation that has one: how a migration recognizes the operation an interrupted run finished.
     */
    default java.util.Optional<String> operationIdentity(Request request) {
        return java.util.Optional.empty();
    }
}
