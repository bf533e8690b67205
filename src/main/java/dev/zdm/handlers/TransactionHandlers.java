package dev.zdm.handlers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Engine;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * open_transaction {session, table, mode?, duration_seconds?} → transaction_opened {session};
 * close_transaction {session} → transaction_closed {session}. They stand for the application, so a
 * scenario can put a migration behind a lock it holds.
 */
public final class TransactionHandlers {

    static final double MAX_DURATION_SECONDS = 86_400;
    private static final Pattern SESSION = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

    private TransactionHandlers() {
    }

    static String session(Request request) {
        String session = request.string("session");
        if (!SESSION.matcher(session).matches()) {
            throw ZdmException.malformed("session must be 1 to 64 letters, digits or _.:-");
        }
        return session;
    }

    public static final class Open implements Handler {
        private final Engine engine;

        public Open(Engine engine) {
            this.engine = engine;
        }

        @Override
        public String type() {
            return "open_transaction";
        }

        @Override
        public Set<String> fields() {
            return new LinkedHashSet<>(List.of("session", "schema", "table", "mode", "duration_seconds"));
        }

        @Override
        public ObjectNode handle(Request request) {
            String session = session(request);
            SqlName table = PlanHandler.tableOf(request, engine.catalog());
            LockMode mode = null;
            if (request.has("mode")) {
                try {
                    mode = LockMode.parse(request.string("mode"));
                } catch (IllegalArgumentException e) {
                    throw ZdmException.malformed(e.getMessage());
                }
            }
            Double duration = request.number("duration_seconds", 0, MAX_DURATION_SECONDS, null);
            engine.openTransaction(new AppTransaction(session, table, mode, duration));
            return Reply.to(request, "transaction_opened").put("session", session).body();
        }
    }

    public static final class Close implements Handler {
        private final Engine engine;

        public Close(Engine engine) {
            this.engine = engine;
        }

        @Override
        public String type() {
            return "close_transaction";
        }

        @Override
        public Set<String> fields() {
            return Set.of("session");
        }

        @Override
        public ObjectNode handle(Request request) {
            String session = session(request);
            engine.closeTransaction(session);
            return Reply.to(request, "transaction_closed").put("session", session).body();
        }
    }
}
