package dev.zdm.postgres.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.engine.MigrationRecord;
import dev.zdm.protocol.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * zdm.migrations: one row per migration by name, its operations, their checksums, how many are done
 * and each one's reply, written whole after each operation in one autocommit statement.
 */
public final class MigrationsTable {

    private static final String COLUMNS = "name, operations, checksums, state, outcomes, failure,"
            + " to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
            + " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

    private MigrationsTable() {
    }

    public static Optional<MigrationRecord> find(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM zdm.migrations WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    public static List<MigrationRecord> list(Connection c) throws SQLException {
        List<MigrationRecord> all = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                + " FROM zdm.migrations ORDER BY state = 'done', updated_at DESC, name");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                all.add(read(rs));
            }
        }
        return all;
    }

    public static void save(Connection c, MigrationRecord r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO zdm.migrations (name, operations, checksums, state, operations_done, outcomes, failure)
                VALUES (?, ?::json, ?::json, ?, ?, ?::json, ?::json)
                ON CONFLICT (name) DO UPDATE SET operations = excluded.operations, checksums = excluded.checksums,
                    state = excluded.state, operations_done = excluded.operations_done,
                    outcomes = excluded.outcomes, failure = excluded.failure, updated_at = clock_timestamp(),
                    progressed_at = CASE WHEN excluded.state = 'failed' THEN zdm.migrations.progressed_at
                                         ELSE clock_timestamp() END""")) {
            ps.setString(1, r.name());
            ps.setString(2, array(r.operations()));
            ps.setString(3, Json.MAPPER.valueToTree(r.checksums()).toString());
            ps.setString(4, r.state().sql());
            ps.setInt(5, r.operationsDone());
            ps.setString(6, array(r.outcomes()));
            ps.setString(7, r.failure());
            ps.executeUpdate();
        }
    }

    /**
     * Done since the migration last moved on (its start, or an operation's record; a failure's record is
     * not a move: a lost connection may have failed the reply of an operation that finished). Both times
     * are the server's clock_timestamp(), so they compare whatever the node's clock says.
     */
    public static boolean finishedSinceRecorded(Connection c, String fingerprintHex, String migrationName)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT EXISTS (SELECT FROM zdm.operations o, zdm.migrations m WHERE o.fingerprint = ?
                    AND o.state = 'done' AND m.name = ? AND o.updated_at > m.progressed_at)""")) {
            ps.setString(1, fingerprintHex);
            ps.setString(2, migrationName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Documents already JSON, joined as one array; a NUL, which no json value may hold, replaced. */
    private static String array(List<String> documents) {
        return ("[" + String.join(",", documents) + "]").replace("\\u0000", "\\ufffd");
    }

    private static MigrationRecord read(ResultSet rs) throws SQLException {
        return new MigrationRecord(rs.getString(1), documents(rs.getString(2)), strings(rs.getString(3)),
                MigrationRecord.State.of(rs.getString(4)), documents(rs.getString(5)), rs.getString(6),
                rs.getString(7), rs.getString(8));
    }

    private static List<String> documents(String array) throws SQLException {
        List<String> documents = new ArrayList<>();
        for (JsonNode item : tree(array)) {
            documents.add(item.toString());
        }
        return documents;
    }

    private static List<String> strings(String array) throws SQLException {
        List<String> strings = new ArrayList<>();
        for (JsonNode item : tree(array)) {
            strings.add(item.asText());
        }
        return strings;
    }

    private static JsonNode tree(String json) throws SQLException {
        try {
            return Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            // Only zdm writes these columns, always from a JSON tree.
            throw new SQLException("zdm.migrations holds JSON zdm did not write: " + e.getOriginalMessage(), e);
        }
    }
}
