package dev.zdm.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Every row's n incremented. Naive: one UPDATE, which row-locks every row it has passed until it
 * commits, so an application update of any such row waits for the whole statement. zdm: migrate_data
 * in batches along the primary key, each its own transaction, so a row is locked for one batch only.
 * The expression is not idempotent on purpose: it is what makes exactly-once batches matter.
 */
final class MigrateDataPair implements OperationPair {

    private final int batchSize;

    MigrateDataPair(int batchSize) {
        this.batchSize = batchSize;
    }

    int batchSize() {
        return batchSize;
    }

    @Override
    public String name() {
        return "migrate_data";
    }

    @Override
    public String naiveSql() {
        return "UPDATE users SET n = n + 1";
    }

    @Override
    public boolean changesRows() {
        return true;
    }

    @Override
    public String note(ObjectNode reply) {
        return "batches=" + reply.path("batches").asText() + ", table_locked=" + reply.path("table_locked").asText();
    }

    @Override
    public ObjectNode request(ZdmClient zdm) {
        ObjectNode body = zdm.body("migrate_data");
        body.put("table", "users");
        body.put("batch_size", batchSize);
        body.putObject("set").put("n", "n + 1");
        return body;
    }

    @Override
    public void reset(Connection c) throws SQLException {
        // A data change leaves no object behind; the VACUUM FULL between trials removes its dead rows.
        // The ledger knows the job as done whatever its batch size: forget it, so each trial runs it whole.
        try (Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN IF to_regclass('zdm.operations') IS NOT NULL THEN"
                    + " DELETE FROM zdm.operations WHERE kind = 'migrate_data' AND table_name = 'users'; END IF; END $$");
        }
    }
}
