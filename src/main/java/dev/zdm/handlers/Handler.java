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
}
