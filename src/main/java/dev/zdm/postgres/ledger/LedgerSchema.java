package dev.zdm.postgres.ledger;

import dev.zdm.Log;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * zdm's own schema in the target database, created and upgraded once when the engine starts, never
 * altered by a request: each entry of {@link #MIGRATIONS} runs once, in order, and
 * {@code zdm.schema_version} records the last one applied. Two nodes starting at once serialize on a
 * transaction-level advisory lock, so neither sees the other's half-made schema.
 */
public final class LedgerSchema {

    public static final String SCHEMA = dev.zdm.pg.SystemSchemas.LEDGER;

    /** Any fixed number that is zdm's: the key of the upgrade's advisory lock. */
    private static final long UPGRADE_LOCK = 0x7a646d5f6c656467L;

    private static final List<String> MIGRATIONS = List.of(
            """
            CREATE TABLE IF NOT EXISTS zdm.operations (
                id bigserial PRIMARY KEY,
                fingerprint text NOT NULL UNIQUE,
                kind text NOT NULL,
                table_name text NOT NULL,
                table_oid oid NOT NULL,
                request jsonb NOT NULL,
                plan jsonb NOT NULL,
                state text NOT NULL CHECK (state IN ('running', 'done', 'failed', 'undo_pending')),
                steps_done int NOT NULL DEFAULT 0,
                detail text,
                started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE TABLE IF NOT EXISTS zdm.objects (
                operation_id bigint NOT NULL REFERENCES zdm.operations ON DELETE CASCADE,
                step int NOT NULL,
                kind text NOT NULL CHECK (kind IN ('index', 'constraint', 'column')),
                name text NOT NULL,
                table_oid oid NOT NULL,
                object_oid oid,
                attnum int2,
                undone boolean NOT NULL DEFAULT false,
                PRIMARY KEY (operation_id, step));
            CREATE TABLE IF NOT EXISTS zdm.checkpoints (
                operation_id bigint NOT NULL REFERENCES zdm.operations ON DELETE CASCADE,
                step int NOT NULL,
                table_oid oid NOT NULL,
                attnum int2,
                last_key bigint,
                end_key bigint,
                rows_done bigint NOT NULL DEFAULT 0,
                batches_done int NOT NULL DEFAULT 0,
                finished boolean NOT NULL DEFAULT false,
                PRIMARY KEY (operation_id, step));
            """,
            // json, not jsonb: a stored reply is answered again as it was first written, keys in order.
            """
            CREATE TABLE IF NOT EXISTS zdm.migrations (
                name text PRIMARY KEY,
                operations json NOT NULL,
                checksums json NOT NULL,
                state text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
                operations_done int NOT NULL DEFAULT 0,
                outcomes json NOT NULL DEFAULT '[]',
                failure json,
                started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                progressed_at timestamptz NOT NULL DEFAULT clock_timestamp());
            """,
            // Positions along any key (uuid, text, composite: each value as text) or block range; walk names
            // the key a position is along. last_key and end_key stay for positions of a single integer key.
            """
            ALTER TABLE zdm.checkpoints ADD COLUMN IF NOT EXISTS walk text,
                ADD COLUMN IF NOT EXISTS last_position text[],
                ADD COLUMN IF NOT EXISTS end_position text[];
            """,
            // The request's budget, kept with its operation: every background retry of its undo keeps it.
            """
            ALTER TABLE zdm.operations ADD COLUMN IF NOT EXISTS max_lock_duration_ms bigint;
            """);

    private LedgerSchema() {
    }

    /** The version {@link #upgrade} brings the schema to. */
    public static int latestVersion() {
        return MIGRATIONS.size();
    }

    /** Brings the schema to the newest version; a no-op when it is there already. */
    public static void upgrade(Connection c) throws SQLException {
        boolean autocommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(" + UPGRADE_LOCK + ")");
            s.execute("CREATE SCHEMA IF NOT EXISTS " + SCHEMA);
            s.execute("CREATE TABLE IF NOT EXISTS zdm.schema_version (version int NOT NULL)");
            int version = recordedVersion(s);
            if (version > MIGRATIONS.size()) {
                throw new SQLException("zdm.schema_version says version " + version + ", newer than this zdm knows ("
                        + MIGRATIONS.size() + "): a newer zdm upgraded the ledger; run that one", "55000");
            }
            if (version > 0 && !complete(c)) {
                // Every migration is idempotent: from the first, they make again whatever is missing.
                Log.info("ledger: zdm.schema_version says version " + version + " but zdm's tables are not all"
                        + " there; making them again");
                version = 0;
            }
            for (int v = version + 1; v <= MIGRATIONS.size(); v++) {
                s.execute(MIGRATIONS.get(v - 1));
                Log.info("ledger: schema zdm upgraded to version " + v);
            }
            if (version < MIGRATIONS.size()) {
                s.execute("DELETE FROM zdm.schema_version");
                s.execute("INSERT INTO zdm.schema_version VALUES (" + MIGRATIONS.size() + ")");
                noteOldCheckpoints(s);
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autocommit);
        }
    }

    /**
     * Whether zdm's tables are all there: a request checks before it trusts the ledger, which someone
     * may have dropped (DROP SCHEMA zdm CASCADE) while the node ran.
     */
    public static boolean complete(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("""
                SELECT to_regclass('zdm.operations') IS NOT NULL AND to_regclass('zdm.objects') IS NOT NULL
                   AND to_regclass('zdm.checkpoints') IS NOT NULL AND to_regclass('zdm.schema_version') IS NOT NULL""")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /**
     * The version schema_version records: 0 when it is empty, and then every migration runs again
     * (each makes only what is missing), which repairs an emptied table instead of failing on
     * "relation operations already exists". More than one row is not zdm's doing: refused.
     */
    private static int recordedVersion(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT count(*), coalesce(max(version), 0) FROM zdm.schema_version")) {
            rs.next();
            if (rs.getLong(1) > 1) {
                throw new SQLException("zdm.schema_version has " + rs.getLong(1) + " rows where zdm keeps one;"
                        + " it was changed by hand: leave one row with the version the ledger has (this zdm makes "
                        + MIGRATIONS.size() + "), or empty it and zdm repairs what is missing", "55000");
            }
            if (rs.getLong(1) == 0) {
                return 0;
            }
            return rs.getInt(2);
        }
    }

    /**
     * zdm_checkpoints of earlier versions is not carried over: its rows name a job by text, bound to no
     * table or column, which is how a dropped-and-re-added column resumed from a stale position. A job
     * it recorded starts afresh; the table is left for the user to drop.
     */
    private static void noteOldCheckpoints(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT to_regclass('zdm_checkpoints') IS NOT NULL")) {
            if (rs.next() && rs.getBoolean(1)) {
                Log.info("ledger: the zdm_checkpoints table of an earlier zdm is ignored (its positions are bound"
                        + " to no table or column); jobs it recorded start afresh; drop it when no older node runs");
            }
        }
    }
}
