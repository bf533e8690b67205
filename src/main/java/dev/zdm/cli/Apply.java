package dev.zdm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.Stopping;
import dev.zdm.protocol.JsonLines;
import dev.zdm.protocol.Node;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code apply DIR}: each migration file, in name order, sent to the node as the migration message it
 * stands for and answered as the node answers it. Stops at the first migration that fails. On stdout
 * each reply body, one JSON line per migration; on stderr one line per operation for a person.
 */
public final class Apply {

    /** Where the requests say they come from, as a client of the node would. */
    static final String SRC = "zdm-apply";

    private Apply() {
    }

    public static ExitCode run(Node node, List<Path> files, PrintStream out, PrintStream err) {
        if (files.isEmpty()) {
            err.println("zdm apply: no migration files (*.json); nothing to do");
            return ExitCode.OK;
        }
        // As the node's requests (Stopping): a SIGTERM cancels the running statement and waits for the
        // interrupted migration's outcome lines before the JVM exits 143.
        Stopping.busy();
        try {
            return runAll(node, files, out, err);
        } finally {
            out.flush();
            err.flush();
            Stopping.idle();
        }
    }

    private static ExitCode runAll(Node node, List<Path> files, PrintStream out, PrintStream err) {
        int appliedNow = 0;
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            String name = MigrationFiles.name(file);
            if (Stopping.requested()) {
                err.println("zdm apply: stopped (SIGTERM) before " + name + "; " + (files.size() - i)
                        + " migration(s) not run; run the same command again to resume (exit 143)");
                return ExitCode.INTERRUPTED;
            }
            ObjectNode reply;
            try {
                reply = node.answer(new Request(SRC, "zdm", MigrationFiles.request(file, i + 1)));
            } catch (ZdmException e) {
                reply = Reply.error(i + 1, e);
            }
            JsonLines.writeLine(reply, out);
            out.flush();
            describe(name, reply, err);
            if ("error".equals(reply.path("type").asText())) {
                int code = reply.path("code").asInt();
                ExitCode exit = ExitCode.ofError(code);
                err.println("zdm apply: stopped at " + name + " (error " + code + "); " + (files.size() - i - 1)
                        + " later migration(s) not run; " + (exit == ExitCode.INTERRUPTED
                        ? "run the same command again to resume" : "fix the cause and run the same command again")
                        // The JVM stopping on SIGTERM exits 143 whatever this command returns.
                        + " (exit " + (Stopping.requested() ? "143, SIGTERM" : exit.code()) + ")");
                return exit;
            }
            appliedNow += reply.path("applied").asInt() > 0 ? 1 : 0;
        }
        err.println("zdm apply: " + files.size() + " migration(s) applied (" + appliedNow + " ran operations now)");
        return ExitCode.OK;
    }

    private static void describe(String name, ObjectNode reply, PrintStream err) {
        JsonNode operations = reply.path("operations");
        if (!operations.isArray()) {
            // Refused before any operation ran: a malformed or changed migration.
            err.println(name + ": error " + reply.path("code").asInt() + ": " + reply.path("text").asText());
            return;
        }
        for (JsonNode op : operations) {
            JsonNode opReply = op.path("reply");
            String what = switch (op.path("status").asText()) {
                case "failed" -> "FAILED, error " + opReply.path("code").asInt() + ": " + opReply.path("text").asText();
                case "not_run" -> "not run";
                default -> op.path("status").asText().replace('_', ' ') + ": " + JsonLines.write(opReply);
            };
            err.println(name + " " + op.path("operation").asInt() + "/" + operations.size() + " "
                    + op.path("type").asText() + (op.has("table") ? " " + op.path("table").asText() : "") + ": " + what);
        }
    }
}
