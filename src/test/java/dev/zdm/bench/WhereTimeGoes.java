package dev.zdm.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.handlers.Handlers;
import dev.zdm.postgres.Database;
import dev.zdm.postgres.PostgresEngine;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Where a backfill's time goes, read from the server's own statistics rather than guessed: each way of
 * changing every row of users (the single UPDATE, migrate_data at two batch sizes, the naive and the
 * safe add_column) runs alone on a settled table, and for each the server reports WAL (bytes, records,
 * full-page images), commits, updates and how many were HOT, and pg_stat_statements the statements
 * that took the time; one batch of migrate_data is re-run under EXPLAIN (ANALYZE, BUFFERS, WAL) from the
 * very statement text pg_stat_statements recorded. Writes bench/where-time-goes.md. No application
 * runs: this is the cost of the work itself. {@code mvn -Pbench verify -Dbench.main=dev.zdm.bench.WhereTimeGoes}.
 */
public final class WhereTimeGoes {

    private WhereTimeGoes() {
    }

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            run(BenchParams.fromSystemProperties());
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    /** One way of changing every row: what to run, and how to take it back before the next. */
    private interface Way {
        String name();

        void run(Connection admin, ZdmClient zdm) throws SQLException;
    }

    private record Sql(String name, String sql) implements Way {
        public void run(Connection admin, ZdmClient zdm) throws SQLException {
            try (Statement s = admin.createStatement()) {
                s.execute(sql);
            }
        }
    }

    private record Zdm(String name, java.util.function.Function<ZdmClient, ObjectNode> request) implements Way {
        public void run(Connection admin, ZdmClient zdm) {
            zdm.send(request.apply(zdm));
        }
    }

    record Figures(String way, long ms, long rows, long walBytes, long walRecords, long walFpi, long commits,
                   long updated, long hot, List<String> topStatements, long serverMs, long rowWorkMs, List<Long> runs) {
        Figures withRuns(List<Long> all) {
            return new Figures(way, ms, rows, walBytes, walRecords, walFpi, commits, updated, hot, topStatements,
                    serverMs, rowWorkMs, all);
        }
    }

    /** Each way runs this often; the table shows the run of median wall time, and every run's time. */
    private static final int REPEATS = Integer.getInteger("bench.repeats", 3);
    private static final String EXPLAINED = "migrate_data batch_size 5000";

    static void run(BenchParams params) throws Exception {
        Files.createDirectories(params.out());
        List<Way> ways = List.of(
                new Sql("single UPDATE", "UPDATE users SET n = n + 1"),
                new Zdm("migrate_data batch_size 1000", z -> migrate(z, 1000)),
                new Zdm("migrate_data batch_size 5000", z -> migrate(z, 5000)),
                new Zdm("migrate_data batch_size 50000 (sized by time)", z -> migrate(z, 50_000)),
                new Sql("add_column naive (rewrite)", "ALTER TABLE users ADD COLUMN score double precision NOT NULL DEFAULT random()"),
                new Zdm("add_column zdm (safe)", WhereTimeGoes::addColumn));
        List<Figures> figures = new ArrayList<>();
        String explain = "(not run)";
        String settings;
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setCleanDataDirectory(true)
                .setServerConfig("fsync", "off")
                .setServerConfig("shared_preload_libraries", "pg_stat_statements")
                .setServerConfig("pg_stat_statements.track", "all")
                .setServerConfig("track_io_timing", "on")
                .setServerConfig("track_wal_io_timing", "on")
                .start();
        try {
            Properties props = new Properties();
            props.setProperty("user", "postgres");
            Database database = new Database("jdbc:postgresql://localhost:" + pg.getPort() + "/postgres", props, "profile");
            try (Connection admin = database.connect("profile-admin"); Statement s = admin.createStatement()) {
                s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
                UsersTable.create(admin, params.rows());
                MachineInfo m = MachineInfo.collect(admin);
                settings = m.postgres() + "; " + String.join(", ", m.settings()) + "; load: " + Files.readString(Path.of("/proc/loadavg")).trim();
                PostgresEngine engine = PostgresEngine.connect(database, 3);
                try {
                    ZdmClient zdm = new ZdmClient(Handlers.forEngine(engine, params.lockBudget()), params.lockBudget());
                    for (Way way : ways) {
                        List<Figures> runs = new ArrayList<>();
                        for (int r = 0; r < REPEATS; r++) {
                            s.execute("ALTER TABLE users DROP COLUMN IF EXISTS score");
                            s.execute("DROP TABLE IF EXISTS zdm_checkpoints");
                            UsersTable.settle(admin);
                            runs.add(measure(admin, zdm, way));
                        }
                        runs.sort(java.util.Comparator.comparingLong(Figures::ms));
                        Figures median = runs.get(runs.size() / 2);
                        figures.add(median.withRuns(runs.stream().map(Figures::ms).toList()));
                        if (way.name().equals(EXPLAINED)) {
                            explain = explainOneBatch(admin);
                        }
                    }
                } finally {
                    engine.close();
                }
            }
        } finally {
            pg.close();
        }
        Path out = params.out().resolve("where-time-goes.md");
        Files.writeString(out, report(params, figures, explain, settings));
        TrialRunner.log("wrote " + out);
    }

    private static ObjectNode migrate(ZdmClient zdm, int batchSize) {
        ObjectNode body = zdm.body("migrate_data");
        body.put("table", "users");
        body.put("batch_size", batchSize);
        body.putObject("set").put("n", "n + 1");
        return body;
    }

    private static ObjectNode addColumn(ZdmClient zdm) {
        ObjectNode body = zdm.body("add_column");
        body.put("table", "users");
        body.put("column", "score");
        body.put("data_type", "double precision");
        body.put("default_sql", "random()");
        body.put("nullable", false);
        return body;
    }

    private static Figures measure(Connection admin, ZdmClient zdm, Way way) throws Exception {
        try (Statement s = admin.createStatement()) {
            s.execute("SELECT pg_stat_statements_reset()");
            s.execute("SELECT pg_stat_reset()");
            s.execute("SELECT pg_stat_reset_shared('wal')");
            Thread.sleep(1100);
            String lsnBefore = one(s, "SELECT pg_current_wal_lsn()::text");
            long commitsBefore = number(s, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
            long started = System.nanoTime();
            way.run(admin, zdm);
            long ms = (System.nanoTime() - started) / 1_000_000;
            // An idle backend flushes its cumulative statistics up to 10 s later (PGSTAT_IDLE_INTERVAL, PostgreSQL 15+).
            Thread.sleep(11_000);
            long walBytes = number(s, "SELECT pg_current_wal_lsn() - '" + lsnBefore + "'::pg_lsn");
            long commits = number(s, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()") - commitsBefore;
            long[] wal = new long[2];
            try (ResultSet rs = s.executeQuery("SELECT wal_records, wal_fpi FROM pg_stat_wal")) {
                rs.next();
                wal[0] = rs.getLong(1);
                wal[1] = rs.getLong(2);
            }
            long[] tup = new long[2];
            try (ResultSet rs = s.executeQuery("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'users'")) {
                if (rs.next()) {
                    tup[0] = rs.getLong(1);
                    tup[1] = rs.getLong(2);
                }
            }
            // Server time of everything the way ran (the profiler's own reads left out), and of the statements
            // that changed the rows: the rest of the wall time is spent outside the server, between statements.
            // The lock observer's pg_locks polls run on a connection of their own, alongside the batches: not
            // part of the sequence of statements the wall time is made of.
            String mine = " FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%' AND query NOT LIKE 'SELECT count(*) FROM users'"
                    + " AND query NOT LIKE '%pg_current_wal_lsn%' AND query NOT LIKE '%FROM pg_locks l WHERE l.pid%'";
            long serverMs = number(s, "SELECT coalesce(round(sum(total_exec_time)), 0)::bigint" + mine);
            long rowWorkMs = number(s, "SELECT coalesce(round(sum(total_exec_time)), 0)::bigint" + mine
                    + " AND (query LIKE 'WITH zdm_keys%' OR query LIKE 'WITH zdm_done%' OR query LIKE 'UPDATE users%' OR query LIKE 'ALTER TABLE users ADD%')");
            long rows = number(s, "SELECT count(*) FROM users");
            List<String> top = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT calls, round(total_exec_time)::bigint, rows, shared_blks_hit,"
                    + " shared_blks_read, shared_blks_dirtied, wal_bytes, left(regexp_replace(query, '\\s+', ' ', 'g'), 160)"
                    + " FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%' ORDER BY total_exec_time DESC LIMIT 6")) {
                while (rs.next()) {
                    top.add(String.format("| %,d | %,d | %,d | %,d | %,d | %,d | %,d | `%s` |", rs.getLong(1), rs.getLong(2),
                            rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6), rs.getLong(7),
                            rs.getString(8).replace("|", "\\|")));
                }
            }
            TrialRunner.log(way.name() + ": " + ms + " ms, WAL " + walBytes + " B, commits " + commits + ", upd " + tup[0]
                    + " hot " + tup[1]);
            return new Figures(way.name(), ms, rows, walBytes, wal[0], wal[1], commits, tup[0], tup[1], top, serverMs, rowWorkMs, List.of(ms));
        }
    }

    /**
     * One batch of 5000 re-run from the text pg_stat_statements kept of the migrate_data just run (its
     * parameters: after key 0, up to the largest key, 5000 rows, and the constants (true, 1) that
     * pg_stat_statements turned into $5…$8), inside a transaction rolled back.
     */
    private static String explainOneBatch(Connection admin) throws SQLException {
        String query;
        try (Statement s = admin.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT query FROM pg_stat_statements WHERE query LIKE 'WITH zdm_range%'"
                    + " ORDER BY calls DESC LIMIT 1")) {
                if (!rs.next()) {
                    return "(no batch statement recorded)";
                }
                query = rs.getString(1);
            }
        }
        TrialRunner.log("batch statement as recorded: " + query);
        StringBuilder plan = new StringBuilder();
        admin.setAutoCommit(false);
        try (Statement s = admin.createStatement()) {
            s.execute("PREPARE zdm_batch(bigint, bigint, bigint, bigint) AS " + query);
            long maxKey = number(s, "SELECT max(id) FROM users");
            try (ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE, BUFFERS, WAL) EXECUTE zdm_batch(0, "
                    + maxKey + ", 5000, 0, true, 1, true, 1)")) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
        } finally {
            admin.rollback();
            admin.setAutoCommit(true);
        }
        return plan.toString();
    }

    private static String report(BenchParams params, List<Figures> figures, String explain, String settings) {
        StringBuilder md = new StringBuilder("# Where a backfill's time goes\n\n");
        md.append("Generated by `dev.zdm.bench.WhereTimeGoes` (`mvn -Pbench verify -Dbench.main=dev.zdm.bench.WhereTimeGoes -Dbench.rows=")
                .append(params.rows()).append("`), ").append(String.format("%,d", params.rows()))
                .append(" rows, no application running, each way alone on a table just VACUUM FULLed and CHECKPOINTed, zdm's lock budget ")
                .append(params.lockBudget().toMillis()).append(" ms (batches sized to a quarter of it, batch_size the ceiling), ")
                .append(REPEATS).append(" runs each; the statistics are the median run's.\n\n");
        md.append("| way | wall ms (median) | every run, ms | rows/s | WAL bytes | WAL bytes/row | WAL records | full-page images | commits | rows updated | HOT updates |\n");
        md.append("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Figures f : figures) {
            md.append(String.format("| %s | %,d | %s | %,d | %,d | %,d | %,d | %,d | %,d | %,d | %,d (%d%%) |%n", f.way(), f.ms(), f.runs(),
                    f.ms() == 0 ? 0 : f.rows() * 1000 / f.ms(), f.walBytes(), f.walBytes() / Math.max(1, f.rows()),
                    f.walRecords(), f.walFpi(), f.commits(), f.updated(), f.hot(),
                    f.updated() == 0 ? 0 : f.hot() * 100 / f.updated()));
        }
        md.append(findings(figures));
        md.append("\n## Wall time against server time\n\n")
                .append("Server time is pg_stat_statements' total execution time: *row work* of the statements that change ")
                .append("the rows (the batch statement, the single UPDATE, the rewriting ALTER), *all* of every statement ")
                .append("the way ran on its own connection (the lock observer's concurrent pg_locks polls left out). What is ")
                .append("left of the wall time passed outside the server: round trips, the client, ")
                .append("waiting for CPU.\n\n| way | wall ms | server ms, all | server ms, row work | outside the server ms | ")
                .append("outside, per commit ms |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (Figures f : figures) {
            md.append(String.format("| %s | %,d | %,d | %,d | %,d | %.2f |%n", f.way(), f.ms(), f.serverMs(), f.rowWorkMs(),
                    f.ms() - f.serverMs(), (f.ms() - f.serverMs()) / (double) Math.max(1, f.commits())));
        }
        md.append("\n## Statements by server time (pg_stat_statements)\n");
        for (Figures f : figures) {
            md.append("\n### ").append(f.way()).append("\n\n| calls | total ms | rows | shared hit | shared read | dirtied | WAL bytes | query |\n")
                    .append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
            f.topStatements().forEach(line -> md.append(line).append('\n'));
        }
        md.append("\n## One batch of 5,000, EXPLAIN (ANALYZE, BUFFERS, WAL)\n\n```\n").append(explain).append("```\n");
        md.append("\n## Machine\n\n").append(settings).append('\n');
        return md.toString();
    }

    /** What the figures say, computed from them; the reasoning is fixed, the numbers are this run's. */
    private static String findings(List<Figures> figures) {
        Figures single = find(figures, "single UPDATE");
        Figures rewrite = find(figures, "add_column naive");
        Figures safe = find(figures, "add_column zdm");
        StringBuilder md = new StringBuilder("\n## What this shows\n\n");
        if (single == null || rewrite == null || safe == null) {
            return md.append("(a way is missing from this run)\n").toString();
        }
        for (Figures f : figures) {
            if (f.way().startsWith("migrate_data")) {
                md.append(String.format("- **%s**: %.0f%% of the single UPDATE's rows/s (wall); its batch statements' "
                                + "server time is %.0f%% of the single UPDATE's; %,d commits; %.2f ms per commit spent outside "
                                + "the server.%n", f.way(), 100.0 * single.ms() / Math.max(1, f.ms()),
                        100.0 * f.rowWorkMs() / Math.max(1, single.rowWorkMs()), f.commits(),
                        (f.ms() - f.serverMs()) / (double) Math.max(1, f.commits())));
            }
        }
        Figures sized = figures.stream().filter(f -> f.way().contains("sized by time")).findFirst().orElse(single);
        md.append(String.format("- **The same row work, plus the batch's key lookup**: every UPDATE way writes "
                        + "%,d–%,d bytes of WAL a row in about %.1f records (heap update, index insert, …) and almost "
                        + "none of its updates are HOT (%d%% for the single UPDATE): VACUUM FULL packs the pages, so "
                        + "a new row version never fits on its page and every index gets a new entry. The batch "
                        + "statements took %.0f%% of the single UPDATE's server time: each batch first walks the "
                        + "primary key to find where its next rows end (an index scan that also visits the heap, "
                        + "`Heap Fetches` in the EXPLAIN below, because the pages are not all-visible), then the "
                        + "UPDATE walks the same range again. That lookup is the largest cost batching adds; the "
                        + "checkpoint row's UPDATE is a few dozen bytes of WAL a batch (statement tables). Outside the "
                        + "server each batch adds round trips (batch statement, checkpoint row, commit) and client "
                        + "time: %.2f ms a commit at batch_size 1000, which is why 1000-row batches trail; batches "
                        + "sized by time amortise it to %s. What is left between the sized batches and the "
                        + "single UPDATE is the lookup: to reach 95%% the plan would have to find a batch's end without "
                        + "walking its rows twice (key arithmetic on a dense key, the lookup only where keys are sparse).%n",
                Math.min(single.walBytes(), safe.walBytes()) / Math.max(1, single.rows()),
                Math.max(single.walBytes(), safe.walBytes()) / Math.max(1, single.rows()),
                single.walRecords() / (double) Math.max(1, single.rows()),
                single.updated() == 0 ? 0 : single.hot() * 100 / single.updated(),
                100.0 * sized.rowWorkMs() / Math.max(1, single.rowWorkMs()),
                figures.stream().filter(f -> f.way().endsWith("1000")).findFirst()
                        .map(f -> (f.ms() - f.serverMs()) / (double) Math.max(1, f.commits())).orElse(Double.NaN),
                sized.ms() - sized.serverMs() <= 0 ? "nothing measurable (" + (sized.ms() - sized.serverMs())
                        + " ms, within the error of comparing the two clocks)"
                        : String.format("%,d ms in all", sized.ms() - sized.serverMs())));
        md.append(String.format("- **add_column**: the rewrite took %,d ms and wrote %,d bytes of WAL a row (one record "
                        + "a row, the new file written in bulk); the safe way took %,d ms (%.1f×) and %,d bytes a row. "
                        + "Even the single UPDATE of every row took %.1f× the rewrite: an in-place backfill of a packed "
                        + "table cannot come near 2.5× the rewrite on this machine, however it is batched; that needs "
                        + "free space on the pages (HOT, no index entries) or a copy into a new table instead.%n",
                rewrite.ms(), rewrite.walBytes() / Math.max(1, rewrite.rows()), safe.ms(),
                safe.ms() / (double) Math.max(1, rewrite.ms()), safe.walBytes() / Math.max(1, safe.rows()),
                single.ms() / (double) Math.max(1, rewrite.ms())));
        md.append("- **Commits and fsync**: this server runs with fsync and synchronous_commit off (zonky's defaults), "
                + "so a commit costs no flush here; on a real server each batch's commit would wait for one. zdm's "
                + "batches therefore commit with synchronous_commit off in their own session and the job flushes once "
                + "before it answers (batch and checkpoint are one transaction and WAL replays in order, so a crash "
                + "loses only a suffix of batches together with their checkpoints, which the same request redoes).\n");
        return md.toString();
    }

    private static Figures find(List<Figures> figures, String prefix) {
        return figures.stream().filter(f -> f.way().startsWith(prefix)).findFirst().orElse(null);
    }

    private static String one(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long number(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
