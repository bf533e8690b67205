package dev.zdm.postgres.observe;

import dev.zdm.postgres.Database;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.DaemonThreads;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.run.StepReport;
import dev.zdm.Log;
import dev.zdm.pg.LockMode;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Watches the migration's backend from a connection of its own while a step runs: every
 * {@link #POLL_MS} ms it reads pg_locks for that backend and records the table lock modes it holds,
 * for how long a mode that stops the application (SHARE or stronger, by {@link LockMode#blocksReads()}
 * and {@link LockMode#blocksWrites()}) was held, how long it waited for a lock, and which backends
 * (pg_blocking_pids) it waited behind.
 *
 * <p>Durations are counted in poll intervals, so a lock held for less than a poll may go unseen: that is
 * why the engine also reads its own locks inside each transaction before committing (see
 * {@link TableProbe}). The observer is what sees a non-transactional CREATE INDEX CONCURRENTLY and the
 * blockers of a wait, which are gone once lock_timeout has cancelled it.
 *
 * <p>Whether the table was locked ({@code table_locked}) is decided by {@link StepReport#lockedTable()}
 * from these observations: a blocking mode held while the step read or wrote the table's rows.
 */
public final class LockObserver implements AutoCloseable {

    public static final long POLL_MS = 2;

    /** What one watch saw. {@code strongest} is null when no table lock was seen. */
    /**
     * {@code waitedOn}: the relation (pg_class.relname) of the last table lock seen waited for, null if none
     * was: the step's own table, or another it locks too (a foreign key's, a partition).
     */
    public record Observation(LockMode strongest, long blockingHeldMs, long waitedMs, Set<Integer> blockers,
                              String waitedOn, boolean snapshotWait) {
        static final Observation NONE = new Observation(null, 0, 0, Set.of(), null, false);
    }

    /** A blocker as pg_stat_activity showed it while the migration waited behind it. */
    public record Seen(String applicationName, String state, Long transactionAgeMs) {
    }

    private final Backend backend;
    /** The blockers described while they blocked: one may be gone by the time the step gives up. */
    private final Map<Integer, Seen> seen = new ConcurrentHashMap<>();

    public LockObserver(Database database) {
        this.backend = new Backend(database, "zdm-observer");
    }

    /**
     * Starts watching backend {@code pid} and table {@code tableOid} until {@link Watch#stop()}. Returns
     * once the first reading is in: a statement started before the observer is live could finish
     * unseen (a concurrent build on a small table takes a few milliseconds).
     */
    public Watch watch(int pid, long tableOid) {
        Watch watch = new Watch(pid, tableOid);
        watch.thread.start();
        try {
            if (!watch.live.await(FIRST_READING_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                Log.info("lock observer: no first reading within " + FIRST_READING_TIMEOUT_MS + " ms; going on");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return watch;
    }

    /** How long a step waits for the observer to come up before it runs unobserved. */
    public static final long FIRST_READING_TIMEOUT_MS = 2_000;

    public final class Watch {
        private final int pid;
        private final long tableOid;
        private final Thread thread;
        private volatile boolean running = true;
        private final CountDownLatch live = new CountDownLatch(1);
        private LockMode strongest;
        private long blockingHeldNanos;
        private long waitedNanos;
        private final Set<Integer> blockers = new LinkedHashSet<>();
        private String waitedOn;
        /**
         * The last wait seen was for a transaction (its virtualxid) that holds no lock on the table's tree:
         * CREATE INDEX CONCURRENTLY waiting for an older snapshot, which any transaction of the database
         * may hold, on any table (WaitForOlderSnapshots), not for a lock on the table.
         */
        private boolean snapshotWait;

        private Watch(int pid, long tableOid) {
            this.pid = pid;
            this.tableOid = tableOid;
            this.thread = DaemonThreads.named("zdm-lock-observer").newThread(this::run);
        }

        /** Ends the watch and answers what it saw. */
        public Observation stop() {
            running = false;
            try {
                thread.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (this) {
                return new Observation(strongest, blockingHeldNanos / 1_000_000, waitedNanos / 1_000_000,
                        Set.copyOf(blockers), waitedOn, snapshotWait);
            }
        }

        /** How long the watched backend has been seen waiting for a lock so far, in nanoseconds. */
        public synchronized long waitedNanosSoFar() {
            return waitedNanos;
        }

        /** The relation of the last table lock seen waited for so far, or null. */
        public synchronized String waitedOnSoFar() {
            return waitedOn;
        }

        /** The backends waited behind so far (the wait may not be over). */
        public synchronized Set<Integer> blockersSoFar() {
            return Set.copyOf(blockers);
        }

        private void run() {
            try {
                Connection c = backend.connection();
                // The table's whole tree: a statement on a partitioned parent locks its partitions too.
                try (PreparedStatement ps = c.prepareStatement("SELECT l.mode, l.granted,"
                        + " l.locktype = 'relation' AND l.relation IN " + TableProbe.TREE + ","
                        + " CASE WHEN NOT l.granted THEN pg_blocking_pids(l.pid) END,"
                        + " CASE WHEN NOT l.granted AND l.locktype = 'relation' THEN"
                        + " (SELECT r.relname FROM pg_class r WHERE r.oid = l.relation AND r.relkind IN ('r', 'p')) END,"
                        + " CASE WHEN NOT l.granted AND l.locktype = 'virtualxid' THEN NOT EXISTS (SELECT 1 FROM pg_locks b"
                        + " WHERE b.granted AND b.locktype = 'relation' AND b.pid = ANY (pg_blocking_pids(l.pid))"
                        + " AND b.relation IN " + TableProbe.TREE + ") END FROM pg_locks l"
                        + " WHERE l.pid = ? AND ((l.locktype = 'relation' AND l.relation IN " + TableProbe.TREE
                        + ") OR NOT l.granted)")) {
                    ps.setLong(1, tableOid);
                    ps.setLong(2, tableOid);
                    ps.setInt(3, pid);
                    ps.setLong(4, tableOid);
                    long last = System.nanoTime();
                    while (running) {
                        poll(ps, last);
                        live.countDown();
                        last = System.nanoTime();
                        Thread.sleep(POLL_MS);
                    }
                }
            } catch (SQLException e) {
                // Observation is best effort: the migration goes on, its reply says what was seen.
                Log.info("lock observer stopped: " + PgErrors.firstLine(e));
                backend.discard();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                live.countDown();
            }
        }

        /** One reading; the interval since the previous one is credited to what this reading shows. */
        private void poll(PreparedStatement ps, long since) throws SQLException {
            boolean blocking = false;
            boolean waiting = false;
            LockMode seen = null;
            String relation = null;
            Boolean snapshot = null;
            Set<Integer> behind = new LinkedHashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    LockMode mode = LockModes.fromPgLocks(rs.getString(1));
                    boolean granted = rs.getBoolean(2);
                    boolean onTable = rs.getBoolean(3);
                    if (granted && onTable) {
                        seen = LockModes.stronger(seen, mode);
                        blocking |= LockModes.blocksApplication(mode);
                    }
                    if (!granted) {
                        waiting = true;
                        relation = rs.getString(5) != null ? rs.getString(5) : relation;
                        boolean onSnapshot = rs.getBoolean(6);
                        if (!rs.wasNull()) {
                            snapshot = onSnapshot;
                        }
                        Array pids = rs.getArray(4);
                        if (pids != null) {
                            for (Object p : (Object[]) pids.getArray()) {
                                behind.add(((Number) p).intValue());
                            }
                        }
                    }
                }
            }
            Set<Integer> fresh = new LinkedHashSet<>(behind);
            synchronized (this) {
                fresh.removeAll(blockers);
            }
            if (!fresh.isEmpty()) {
                describe(ps.getConnection(), fresh);
            }
            long elapsed = System.nanoTime() - since;
            synchronized (this) {
                strongest = LockModes.stronger(strongest, seen);
                if (blocking) {
                    blockingHeldNanos += elapsed;
                }
                if (waiting) {
                    waitedNanos += elapsed;
                }
                blockers.addAll(behind);
                waitedOn = relation != null ? relation : waitedOn;
                if (snapshot != null) {
                    snapshotWait = snapshot;
                } else if (relation != null) {
                    snapshotWait = false;
                }
            }
        }
    }

    /** See {@link Backend#validateIfIdle()}. */
    public void validateIfIdle() throws SQLException {
        backend.validateIfIdle();
    }

    /** How blocker {@code pid} looked when it was last seen blocking, if it was. */
    public Optional<Seen> lastSeen(int pid) {
        return Optional.ofNullable(seen.get(pid));
    }

    /** Reads pg_stat_activity for blockers not described yet in this watch, on the observer's connection. */
    private void describe(Connection c, Set<Integer> pids) throws SQLException {
        if (seen.size() > MAX_REMEMBERED) {
            seen.clear();
        }
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT pid, application_name, state,
                       (extract(epoch FROM clock_timestamp() - xact_start) * 1000)::bigint
                FROM pg_stat_activity WHERE pid = ANY (?)""")) {
            ps.setArray(1, c.createArrayOf("int4", pids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    // Null where the role may not see it (another role's backend without pg_monitor): unknown, not 0.
                    seen.put(rs.getInt(1), new Seen(rs.getString(2), rs.getString(3), (Long) rs.getObject(4)));
                }
            }
        }
    }

    private static final int MAX_REMEMBERED = 1_000;

    @Override
    public void close() {
        backend.close();
    }
}
