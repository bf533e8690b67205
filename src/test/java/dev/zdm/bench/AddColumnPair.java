package dev.zdm.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A NOT NULL column with a volatile default. Naive: one ALTER TABLE, which must evaluate random() for
 * every row and so rewrites the table under ACCESS EXCLUSIVE: reads, updates and inserts all wait.
 * zdm: add_column with default_sql, which takes the safe way (bare column with a default for new
 * rows, batched backfill, CHECK NOT VALID, VALIDATE, SET NOT NULL), each ACCESS EXCLUSIVE step a
 * catalog change of milliseconds under the lock budget.
 */
final class AddColumnPair implements OperationPair {

    private final Schema schema;

    AddColumnPair(Schema schema) {
        this.schema = schema;
    }

    @Override
    public String name() {
        return "add_column";
    }

    @Override
    public String naiveSql() {
        return "ALTER TABLE " + schema.table + " ADD COLUMN score double precision NOT NULL DEFAULT random()";
    }

    /**
     * The same column, filled and NOT NULL, done by hand with the least work there is without a rewrite:
     * a bare column with its default for new rows (catalog only), one UPDATE of every row, and one validating scan (the CHECK; SET NOT
     * NULL trusts it from PostgreSQL 12). The target weighs the safe add_column against this.
     */
    @Override
    public java.util.List<String> referenceSql() {
        String t = schema.table;
        return java.util.List.of(
                "ALTER TABLE " + t + " ADD COLUMN score double precision",
                // New rows the application inserts meanwhile get theirs from the default (catalog only).
                "ALTER TABLE " + t + " ALTER COLUMN score SET DEFAULT random()",
                "UPDATE " + t + " SET score = random()",
                "ALTER TABLE " + t + " ADD CONSTRAINT score_not_null CHECK (score IS NOT NULL) NOT VALID",
                "ALTER TABLE " + t + " VALIDATE CONSTRAINT score_not_null");
    }

    @Override
    public String note(ObjectNode reply) {
        return "table_rewritten=" + reply.path("table_rewritten").asText() + MigrateDataPair.batchNote(reply);
    }

    @Override
    public ObjectNode request(ZdmClient zdm) {
        ObjectNode body = zdm.body("add_column");
        body.put("table", schema.table);
        body.put("column", "score");
        body.put("data_type", "double precision");
        body.put("default_sql", "random()");
        body.put("nullable", false);
        body.put("explain", true);
        return body;
    }

    @Override
    public void reset(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + schema.table + " DROP COLUMN IF EXISTS score");
        }
    }
}
