package dev.zdm.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Answers one request body; the node loop knows nothing of what the types mean. */
public interface Dispatcher {

    /** The reply body (without in_reply_to checks: the reply builders set it). */
    ObjectNode handle(Request request);
}
