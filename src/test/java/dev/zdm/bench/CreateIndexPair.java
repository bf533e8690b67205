package dev.zdm.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * An index on users.email. Naive: CREATE INDEX, which holds SHARE for the whole build, so every
 * update and insert waits for it (reads go on). zdm: CREATE INDEX CONCURRENTLY under SHARE UPDATE
 * EXCLUSIVE, which blocks neither.
 */
final class CreateIndexPair implements OperationPair {

    @Override
    public String name() {
        return "create_index";
    }

    @Override
    public String naiveSql() {
        return "CREATE INDEX idx_email ON users (email)";
    }

    @Override
    public String note(ObjectNode reply) {
        return "table_locked=" + reply.path("table_locked").asText();
    }

    @Override
    public ObjectNode request(ZdmClient zdm) {
        ObjectNode body = zdm.body("create_index");
        body.put("table", "users");
        body.put("column", "email");
        body.put("concurrently", true);
        return body;
    }

    @Override
    public void reset(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP INDEX IF EXISTS idx_email");
        }
    }
}
