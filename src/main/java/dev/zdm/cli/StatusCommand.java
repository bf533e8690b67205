package dev.zdm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.protocol.JsonLines;
import dev.zdm.protocol.Node;
import dev.zdm.protocol.Request;
import java.io.PrintStream;

/** {@code status}: the node's status reply on stdout (one JSON line), and a summary for a person on stderr. */
public final class StatusCommand {

    private StatusCommand() {
    }

    public static ExitCode run(Node node, PrintStream out, PrintStream err) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("type", "status");
        body.put("msg_id", 1);
        ObjectNode reply = node.answer(new Request(Apply.SRC, "zdm", body));
        JsonLines.writeLine(reply, out);
        out.flush();
        if ("error".equals(reply.path("type").asText())) {
            int code = reply.path("code").asInt();
            err.println("zdm status: error " + code + ": " + reply.path("text").asText());
            // A ledger locked past the budget (14) or a lost connection (13) passes: run again. Else the
            // server is there but its ledger cannot be read, as unusable as one that cannot be reached.
            return code == 13 || code == 14 ? ExitCode.INTERRUPTED : ExitCode.COULD_NOT_START;
        }
        summarize(reply, err);
        return ExitCode.OK;
    }

    private static void summarize(ObjectNode reply, PrintStream err) {
        StringBuilder counts = new StringBuilder();
        reply.path("operation_counts").properties().forEach(e -> counts.append(counts.isEmpty() ? "" : ", ")
                .append(e.getValue().asLong()).append(' ').append(e.getKey()));
        err.println("operations (" + reply.path("engine").asText() + "): " + (counts.isEmpty() ? "none" : counts));
        for (JsonNode op : reply.path("operations")) {
            StringBuilder line = new StringBuilder("  #" + op.path("id").asLong() + " " + op.path("type").asText()
                    + " on " + (op.has("schema") ? op.path("schema").asText() + "." : "") + op.path("table").asText() + ": " + op.path("state").asText() + ", step "
                    + op.path("steps_done").asInt() + " of " + op.path("steps").asInt());
            if (op.path("batches_done").asInt() > 0) {
                line.append(", ").append(op.path("rows_done").asLong()).append(" rows in ")
                        .append(op.path("batches_done").asInt()).append(" batches");
            }
            if (op.has("end_key")) {
                line.append(", key ").append(op.path("last_key").asText("start")).append(" of ")
                        .append(op.path("end_key").asLong());
            }
            if (op.has("owner")) {
                line.append(op.path("owner").isNull() ? "; nobody runs it (interrupted: send the same request again)"
                        : "; run by pid " + op.path("owner").path("pid").asInt());
                for (JsonNode b : op.path("blocked_by")) {
                    line.append(", blocked by pid ").append(b.path("pid").asInt()).append(" (")
                            .append(b.path("application_name").asText()).append(", ").append(b.path("state").asText())
                            .append(')');
                }
            }
            if (op.has("detail")) {
                line.append("; ").append(op.path("detail").asText());
            }
            err.println(line);
        }
        err.println("migrations: " + (reply.path("migrations").isEmpty() ? "none" : ""));
        for (JsonNode m : reply.path("migrations")) {
            StringBuilder line = new StringBuilder("  " + m.path("name").asText() + ": " + m.path("state").asText()
                    + ", " + m.path("operations_done").asInt() + " of " + m.path("operations").asInt() + " operations");
            if (m.has("error")) {
                line.append("; operation ").append(m.path("failed_operation").asInt()).append(" failed, error ")
                        .append(m.path("error").path("code").asInt()).append(": ")
                        .append(m.path("error").path("text").asText());
            }
            if (m.has("runner")) {
                line.append(m.path("runner").isNull() ? "; nobody runs it (interrupted: apply again to resume)"
                        : "; run by pid " + m.path("runner").path("pid").asInt());
            }
            err.println(line);
        }
    }
}
