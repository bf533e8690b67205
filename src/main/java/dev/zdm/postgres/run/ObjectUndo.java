package dev.zdm.postgres.run;

import dev.zdm.Log;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import dev.zdm.postgres.observe.LockObserver;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Takes back what an operation made, by OID, so it cannot hit another object that has the same name
 * now: a column only if the table's attnum still holds it (checked again after the DROP, in the same
 * transaction, and rolled back if the dropped column was another), a constraint only by its OID, an
 * index only while its OID is still the INVALID index a failed build left (a valid index is never
 * dropped), with DROP INDEX CONCURRENTLY of the name the OID has now. Each statement runs under
 * lock_timeout; the blocker that stopped the plan may stop its undo too, so it is retried with backoff.
 */
public final class ObjectUndo {

    private ObjectUndo() {
    }

    /** What undoing one object came to. */
    public enum Result {
        /** Dropped now. */
        UNDONE,
        /** Nothing of ours is left there: dropped earlier, or the OID/attnum holds something else. */
        GONE,
        /** An index that became valid: a finished build, kept. */
        KEPT_VALID,
        /** A partition's index attached to a partitioned index: it goes when that one is dropped. */
        KEPT_ATTACHED
    }

    /** What undoing came to: what is still left, how long it waited for locks, behind whom. */
    public record Report(List<MadeObject> left, long waitedMs, Set<Integer> blockers) {
    }

    /**
     * Undoes the operation's leftovers, newest first, each retried by {@code policy} under
     * {@code budget} with the lock observer live; stops at the first that cannot be undone.
     */
    public static Report undoAll(Backend backend, LockObserver observer, long operationId, Duration budget,
                                 RetryPolicy policy) throws SQLException {
        return undoFrom(backend, observer, operationId, budget, policy, 0);
    }

    /**
     * The same for what steps {@code fromStep} and later made: what earlier steps made is kept (an
     * add_column's filled column, when a NOT NULL step after its backfill lost its lock). The report's
     * {@code left} holds only those later objects.
     */
    public static Report undoFrom(Backend backend, LockObserver observer, long operationId, Duration budget,
                                  RetryPolicy policy, int fromStep) throws SQLException {
        long waited = 0;
        Set<Integer> blockers = new LinkedHashSet<>();
        long operationTable = operationTable(backend.connection(), operationId);
        for (MadeObject o : Ledger.leftovers(backend.connection(), operationId)) {
            if (o.step() < fromStep) {
                continue;
            }
            boolean undone = false;
            for (int attempt = 1; attempt <= policy.attempts() && !undone; attempt++) {
                if (attempt > 1) {
                    sleep(policy.backoffMs(attempt - 1));
                }
                LockObserver.Watch watch = observer.watch(backend.pid(), o.tableOid());
                try {
                    Connection c = backend.connection();
                    StepContext.setLockTimeout(c, budget);
                    Result result = undo(c, o, operationTable);
                    Ledger.undone(c, operationId, o.step());
                    Log.info("undo of " + o.describe() + ": " + result.name().toLowerCase().replace('_', ' '));
                    undone = true;
                } catch (SQLException e) {
                    if (PgErrors.connectionLost(e)) {
                        backend.discard();
                        throw e;
                    }
                    Log.info("undo attempt " + attempt + " of " + o.describe() + ": " + PgErrors.firstLine(e));
                } finally {
                    LockObserver.Observation seen = watch.stop();
                    waited += seen.waitedMs();
                    blockers.addAll(seen.blockers());
                }
            }
            if (!undone) {
                break;
            }
        }
        return new Report(Ledger.leftovers(backend.connection(), operationId).stream()
                .filter(o -> o.step() >= fromStep).toList(), waited, blockers);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One attempt, under the connection's lock_timeout; a lost lock race is an SQLException. */
    public static Result undo(Connection c, MadeObject o) throws SQLException {
        return undo(c, o, o.tableOid());
    }

    /**
     * The same, for an operation on table {@code operationTable}: an index zdm made on another table is
     * a partition's, built for a partitioned index; valid or not, it is of use only attached, so one not
     * attached is dropped, and one attached goes with the partitioned index.
     */
    public static Result undo(Connection c, MadeObject o, long operationTable) throws SQLException {
        return switch (o.kind()) {
            case COLUMN -> dropColumn(c, o);
            case CONSTRAINT -> dropConstraint(c, o);
            case INDEX -> o.tableOid() == operationTable ? dropIndexIfInvalid(c, o.oid()) : dropUnattached(c, o.oid());
        };
    }

    /** The table of the operation (zdm.operations.table_oid); 0 where the row is gone. */
    private static long operationTable(Connection c, long operationId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT table_oid FROM zdm.operations WHERE id = ?")) {
            ps.setLong(1, operationId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** A partition's index zdm made: dropped unless attached to a partitioned index. */
    public static Result dropUnattached(Connection c, long oid) throws SQLException {
        Optional<IndexNow> index = IndexNow.of(c, oid);
        if (index.isEmpty()) {
            return Result.GONE;
        }
        if (index.get().attached()) {
            return Result.KEPT_ATTACHED;
        }
        drop(c, index.get());
        return Result.UNDONE;
    }

    /** An index as it is now: its name as the server quotes it, validity, whether partitioned or attached. */
    private record IndexNow(String name, boolean valid, boolean partitioned, boolean attached, String table) {
        static Optional<IndexNow> of(Connection c, long oid) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT i.indexrelid::regclass::text, i.indisvalid, x.relkind = 'I',
                           EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid),
                           i.indrelid::regclass::text
                    FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid WHERE i.indexrelid = ?""")) {
                ps.setLong(1, oid);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new IndexNow(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3),
                            rs.getBoolean(4), rs.getString(5))) : Optional.empty();
                }
            }
        }
    }

    /**
     * How long a plain DROP of a partitioned index may queue for its table: the application queues
     * behind an ACCESS EXCLUSIVE request, so only a moment; a drop that cannot have its locks then is
     * retried later (the janitor's sweep, or the next request).
     */
    static final long PARTITIONED_DROP_WAIT_MS = 50;

    /**
     * DROP INDEX CONCURRENTLY, except for a partitioned index, which PostgreSQL cannot drop so (0A000):
     * it has no storage and a plain DROP is catalog-only, but takes ACCESS EXCLUSIVE on the table and
     * then, one by one, on every partition. Waiting for a held partition while holding the parent would
     * stall every read of the tree (observed: 1.7 s per try), so the table is queued for only
     * {@link #PARTITIONED_DROP_WAIT_MS}, and its partitions are locked NOWAIT while it is held: the
     * drop either has the whole tree at once or gives it all back.
     *
     * <p>Each partition is locked by itself (LOCK TABLE ONLY), not through the parent: before 14 a LOCK
     * TABLE of a parent checks the role's rights on every partition (LockTableRecurse, checked on 11.22:
     * "permission denied for table" on a partition another role owns, where DROP INDEX itself needs the
     * parent's ownership only), so a tenant's janitor would fail the same way forever. A partition the
     * role may not LOCK is left to the DROP, which waits for it under a lock_timeout of
     * {@link #UNLOCKABLE_PARTITION_WAIT_MS}: the parent is held that long at most while it waits.
     */
    private static void drop(Connection c, IndexNow index) throws SQLException {
        if (!index.partitioned()) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP INDEX CONCURRENTLY IF EXISTS " + index.name());
            }
            return;
        }
        inTransaction(c, () -> {
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL lock_timeout = '" + PARTITIONED_DROP_WAIT_MS + "ms'");
                s.execute("LOCK TABLE ONLY " + index.table() + " IN ACCESS EXCLUSIVE MODE");
                boolean unlockable = false;
                for (Map.Entry<String, Boolean> partition : partitions(c, index.table()).entrySet()) {
                    if (partition.getValue()) {
                        s.execute("LOCK TABLE ONLY " + partition.getKey() + " IN ACCESS EXCLUSIVE MODE NOWAIT");
                    } else {
                        unlockable = true;
                    }
                }
                if (unlockable) {
                    s.execute("SET LOCAL lock_timeout = '" + UNLOCKABLE_PARTITION_WAIT_MS + "ms'");
                }
                s.execute("DROP INDEX IF EXISTS " + index.name());
            }
            return Result.UNDONE;
        });
    }

    /** How long the DROP may wait for a partition the role may not LOCK, holding the parent meanwhile. */
    static final long UNLOCKABLE_PARTITION_WAIT_MS = 1;

    /**
     * Every partition below the table, at every level (the server's quoting of each name), in OID order
     * (one order for every janitor), each with whether the role may LOCK it in ACCESS EXCLUSIVE mode.
     */
    private static Map<String, Boolean> partitions(Connection c, String table) throws SQLException {
        Map<String, Boolean> partitions = new java.util.LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                WITH RECURSIVE tree(oid) AS (
                    SELECT inhrelid FROM pg_inherits WHERE inhparent = ?::regclass
                    UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid)
                SELECT t.oid::regclass::text, has_table_privilege(t.oid, 'UPDATE, DELETE, TRUNCATE')
                FROM tree t JOIN pg_class r ON r.oid = t.oid WHERE r.relkind IN ('r', 'p', 'f') ORDER BY t.oid""")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    partitions.put(rs.getString(1), rs.getBoolean(2));
                }
            }
        }
        return partitions;
    }

    /**
     * Drops index {@code oid} if it still exists and is still INVALID, by the name it has now. The check
     * is the statement right before the drop: what remains is the instant between the two.
     */
    public static Result dropIndexIfInvalid(Connection c, long oid) throws SQLException {
        Optional<IndexNow> index = IndexNow.of(c, oid);
        if (index.isEmpty()) {
            return Result.GONE;
        }
        if (index.get().valid()) {
            return Result.KEPT_VALID;
        }
        if (index.get().attached()) {
            // An INVALID sub-partitioned table's index, attached: it cannot be dropped alone.
            return Result.KEPT_ATTACHED;
        }
        // regclass::text is the server's own quoting of the name (schema-qualified when off the path).
        drop(c, index.get());
        return Result.UNDONE;
    }

    private static Result dropColumn(Connection c, MadeObject o) throws SQLException {
        return inTransaction(c, () -> {
            String table;
            String column;
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT attrelid::regclass::text, quote_ident(attname) FROM pg_attribute
                    WHERE attrelid = ? AND attnum = ? AND NOT attisdropped""")) {
                ps.setLong(1, o.tableOid());
                ps.setInt(2, o.attnum());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Result.GONE;
                    }
                    table = rs.getString(1);
                    column = rs.getString(2);
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("ALTER TABLE " + table + " DROP COLUMN " + column);
            }
            // Under the ALTER's lock now: the column dropped must be the attnum zdm made, or none is.
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT attisdropped FROM pg_attribute WHERE attrelid = ? AND attnum = ?")) {
                ps.setLong(1, o.tableOid());
                ps.setInt(2, o.attnum());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || !rs.getBoolean(1)) {
                        c.rollback();
                        return Result.GONE;
                    }
                }
            }
            return Result.UNDONE;
        });
    }

    private static Result dropConstraint(Connection c, MadeObject o) throws SQLException {
        return inTransaction(c, () -> {
            String table;
            String name;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT conrelid::regclass::text, quote_ident(conname) FROM pg_constraint WHERE oid = ?")) {
                ps.setLong(1, o.oid());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Result.GONE;
                    }
                    table = rs.getString(1);
                    name = rs.getString(2);
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("ALTER TABLE " + table + " DROP CONSTRAINT " + name);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_constraint WHERE oid = ?")) {
                ps.setLong(1, o.oid());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        c.rollback();
                        return Result.GONE;
                    }
                }
            }
            return Result.UNDONE;
        });
    }

    private interface Work {
        Result run() throws SQLException;
    }

    private static Result inTransaction(Connection c, Work work) throws SQLException {
        c.setAutoCommit(false);
        try {
            Result result = work.run();
            if (!c.getAutoCommit()) {
                c.commit();
            }
            return result;
        } catch (SQLException e) {
            StepContext.rollbackQuietly(c);
            throw e;
        } finally {
            StepContext.autocommitQuietly(c);
        }
    }
}
