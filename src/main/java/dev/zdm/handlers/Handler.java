package dev.zdm.handlers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.protocol.Request;

/** Answers the requests of one body.type. */
public interface Handler {

    String type();

    ObjectNode handle(Request request);
}
