package dev.zdm.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * An index on users.email (or pgbench_accounts.bid). Naive: CREATE INDEX, which holds SHARE for the whole build, so every
 * update and insert waits for it (reads go on). zdm: CREATE INDEX CONCURRENTLY under SHARE UPDATE
 * EXCLUSIVE, which blocks neither.
 */
final class CreateIndexPair implements OperationPair {

    private final Schema schema;

    CreateIndexPair(Schema schema) {
        this.schema = schema;
    }

    @Override
    public String name() {
        return "create_index";
    }

    @Override
    public String naiveSql() {
        return "CREATE INDEX " + index() + " ON " + schema.table + " (" + schema.indexColumn + ")";
    }

    @Override
    public String note(ObjectNode reply) {
        return "table_locked=" + reply.path("table_locked").asText();
    }

    /** The name zdm gives it, so both ways make the same index. */
    private String index() {
        return "idx_" + schema.indexColumn;
    }

    @Override
    public ObjectNode request(ZdmClient zdm) {
        ObjectNode body = zdm.body("create_index");
        body.put("table", schema.table);
        body.put("column", schema.indexColumn);
        body.put("concurrently", true);
        return body;
    }

    @Override
    public void reset(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP INDEX IF EXISTS " + index());
        }
    }
}
