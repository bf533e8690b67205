package dev.zdm.bench;

import dev.zdm.postgres.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * The application: {@code threads} threads, each on a connection of its own named {@code bench-app-N}
 * (so the lock sampler can tell them from the migration), each doing point reads, single-row updates
 * and inserts on users at a paced rate, every query timed into the recorder.
 *
 * <p>Paced rather than flat out: a flat-out loop on a 2-core machine saturates the server, and then any
 * operation, locked or not, doubles the latency by taking CPU. A thread that falls behind its schedule
 * (because a query waited) does not burst to catch up; the lost queries show up as lower throughput.
 * Each connection has a statement_timeout so a query stuck behind a lock cannot hang the run forever.
 */
final class AppWorkload implements AutoCloseable {

    /** The mix: mostly reads, as most applications; enough writes to feel SHARE locks and row locks. */
    static final int READ_PERCENT = 70;
    static final int UPDATE_PERCENT = 20;

    private final Database database;
    private final Schema schema;
    private final LatencyRecorder recorder;
    private final long maxId;
    private final int ratePerThread;
    private final Duration statementTimeout;
    private final List<Thread> threads = new ArrayList<>();
    private final List<Connection> connections = new ArrayList<>();
    private volatile boolean running = true;

    /** Reads and updates pick ids in [1, maxId]: the rows loaded before the run, all of which exist. */
    AppWorkload(Database database, Schema schema, LatencyRecorder recorder, long maxId, int threadCount,
                int ratePerThread, Duration statementTimeout) throws SQLException {
        this.database = database;
        this.schema = schema;
        this.recorder = recorder;
        this.maxId = maxId;
        this.ratePerThread = ratePerThread;
        this.statementTimeout = statementTimeout;
        for (int i = 0; i < threadCount; i++) {
            connections.add(open(i));
        }
    }

    void start() {
        for (int i = 0; i < connections.size(); i++) {
            int index = i;
            Thread t = new Thread(() -> loop(index), "bench-app-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private Connection open(int index) throws SQLException {
        Connection c = database.connect("bench-app-" + index);
        try (Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = " + statementTimeout.toMillis());
        }
        return c;
    }

    private void loop(int index) {
        long interval = 1_000_000_000L / ratePerThread;
        long next = recorder.now();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        Queries queries = null;
        while (running) {
            long wait = next - recorder.now();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            next = Math.max(next + interval, recorder.now());
            try {
                if (queries == null) {
                    queries = new Queries(connections.get(index));
                }
                int dice = random.nextInt(100);
                QueryKind kind = schema == Schema.TPCB ? QueryKind.TPCB : dice < READ_PERCENT ? QueryKind.READ
                        : dice < READ_PERCENT + UPDATE_PERCENT ? QueryKind.UPDATE : QueryKind.INSERT;
                long started = recorder.now();
                boolean ok = queries.run(kind, random);
                recorder.record(started, recorder.now(), kind, ok);
            } catch (SQLException e) {
                // The connection itself is gone (run() answers false for a failed query): open another.
                queries = null;
                reopen(index);
            }
        }
    }

    private void reopen(int index) {
        try {
            connections.get(index).close();
        } catch (SQLException ignored) {
            // It is being replaced because it failed.
        }
        try {
            connections.set(index, open(index));
        } catch (SQLException e) {
            LockSupport.parkNanos(100_000_000L);
        }
    }

    /** The three prepared statements of one connection; columns named so a new column changes nothing. */
    private final class Queries {
        private final Connection c;
        private final PreparedStatement read;
        private final PreparedStatement update;
        private final PreparedStatement insert;
        private final PreparedStatement[] tpcb;

        Queries(Connection c) throws SQLException {
            this.c = c;
            if (schema == Schema.TPCB) {
                read = update = insert = null;
                // pgbench's built-in "tpcb-like" script, statement by statement.
                tpcb = new PreparedStatement[] {
                        c.prepareStatement("UPDATE pgbench_accounts SET abalance = abalance + ? WHERE aid = ?"),
                        c.prepareStatement("SELECT abalance FROM pgbench_accounts WHERE aid = ?"),
                        c.prepareStatement("UPDATE pgbench_tellers SET tbalance = tbalance + ? WHERE tid = ?"),
                        c.prepareStatement("UPDATE pgbench_branches SET bbalance = bbalance + ? WHERE bid = ?"),
                        c.prepareStatement("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)"
                                + " VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)")};
                return;
            }
            tpcb = null;
            read = c.prepareStatement("SELECT id, email, name, n FROM users WHERE id = ?");
            update = c.prepareStatement("UPDATE users SET name = ? WHERE id = ?");
            insert = c.prepareStatement("INSERT INTO users (email, name, n) VALUES (?, ?, 0)");
        }

        /** One TPC-B-like transaction with pgbench's random choices: any account, teller, branch; delta ±5000. */
        private void tpcb(ThreadLocalRandom random) throws SQLException {
            long scale = Schema.scale(maxId);
            long aid = 1 + random.nextLong(maxId);
            long tid = 1 + random.nextLong(10 * scale);
            long bid = 1 + random.nextLong(scale);
            int delta = random.nextInt(-5000, 5001);
            c.setAutoCommit(false);
            try {
                tpcb[0].setInt(1, delta);
                tpcb[0].setLong(2, aid);
                tpcb[0].executeUpdate();
                tpcb[1].setLong(1, aid);
                try (ResultSet rs = tpcb[1].executeQuery()) {
                    rs.next();
                }
                tpcb[2].setInt(1, delta);
                tpcb[2].setLong(2, tid);
                tpcb[2].executeUpdate();
                tpcb[3].setInt(1, delta);
                tpcb[3].setLong(2, bid);
                tpcb[3].executeUpdate();
                tpcb[4].setLong(1, tid);
                tpcb[4].setLong(2, bid);
                tpcb[4].setLong(3, aid);
                tpcb[4].setInt(4, delta);
                tpcb[4].executeUpdate();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }

        /** True if the query succeeded; false if it failed (e.g. statement_timeout) but the connection lives. */
        boolean run(QueryKind kind, ThreadLocalRandom random) throws SQLException {
            try {
                switch (kind) {
                    case TPCB -> tpcb(random);
                    case READ -> {
                        read.setLong(1, 1 + random.nextLong(maxId));
                        try (ResultSet rs = read.executeQuery()) {
                            rs.next();
                        }
                    }
                    case UPDATE -> {
                        update.setString(1, "User " + random.nextInt(1_000_000));
                        update.setLong(2, 1 + random.nextLong(maxId));
                        update.executeUpdate();
                    }
                    case INSERT -> {
                        String tag = Long.toHexString(random.nextLong());
                        insert.setString(1, tag + "@example.org");
                        insert.setString(2, "New " + tag);
                        insert.executeUpdate();
                    }
                }
                return true;
            } catch (SQLException e) {
                if (c.isClosed() || !c.isValid(1)) {
                    throw e;
                }
                return false;
            }
        }
    }

    /** Stops the threads after their current query and closes the connections. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(statementTimeout.toMillis() + 5_000);
        }
        for (Connection c : connections) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // Closing at the end of a trial; nothing more to do with it.
            }
        }
    }
}
