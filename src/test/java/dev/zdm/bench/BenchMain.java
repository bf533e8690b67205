package dev.zdm.bench;

import dev.zdm.handlers.Handlers;
import dev.zdm.postgres.Database;
import dev.zdm.postgres.EmbeddedServer;
import dev.zdm.postgres.PostgresEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The benchmark of issue 4: on an embedded PostgreSQL, a users table of N rows and an application
 * workload, each operation done the naive way and the zdm way, and what the application felt written
 * to bench/results.md with a latency plot per operation. Run by {@code mvn -Pbench verify}; it lives
 * in test scope so it never ships in the jar, and no test runs it.
 */
public final class BenchMain {

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            run(BenchParams.fromSystemProperties());
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        }
        // The engine and the embedded server are closed; exit without waiting on any thread a library left.
        System.exit(status);
    }

    static void run(BenchParams params) throws Exception {
        long started = System.nanoTime();
        Files.createDirectories(params.out());
        TrialRunner.log("params " + params + "; load " + ReportWriter.LOAD_AT_START);
        List<TrialResult> results = new ArrayList<>();
        List<TrialResult> sweep = new ArrayList<>();
        List<ReplicaLagRun.Result> replica = List.of();
        MachineInfo machine;
        try (EmbeddedServer server = EmbeddedServer.start()) {
            Database database = server.database();
            try (Connection admin = database.connect("bench-admin")) {
                long load = System.nanoTime();
                params.schema().create(admin, params.rows());
                TrialRunner.log(String.format("loaded %,d rows in %.1f s", params.rows(), (System.nanoTime() - load) / 1e9));
                machine = MachineInfo.collect(admin);
                PostgresEngine engine = PostgresEngine.connect(database, 3);
                try {
                    ZdmClient zdm = new ZdmClient(Handlers.forEngine(engine, params.lockBudget()), params.lockBudget());
                    TrialRunner runner = new TrialRunner(database, admin, zdm, params);
                    Schema schema = params.schema();
                    for (OperationPair pair : List.of(new CreateIndexPair(schema), new AddColumnPair(schema),
                            new MigrateDataPair(schema, params.batchSize()))) {
                        for (Way way : Way.values()) {
                            if (way == Way.REFERENCE && pair.referenceSql() == null) {
                                continue;
                            }
                            results.add(runner.run(pair, way));
                        }
                        // The next pair starts from the plain table, not with this pair's index or column.
                        pair.reset(admin);
                    }
                    for (int batchSize : params.sweepBatchSizes()) {
                        sweep.add(runner.run(new MigrateDataPair(schema, batchSize), Way.ZDM));
                    }
                    if (params.replica()) {
                        replica = new ReplicaLagRun(database, admin, zdm, params).run(params.maxReplicaLagMs());
                    }
                } finally {
                    engine.close();
                }
            }
        }
        Map<String, String> plots = PlotWriter.write(params.out(), results);
        double seconds = (System.nanoTime() - started) / 1e9;
        Path report = params.out().resolve("results.md");
        new ReportWriter(params, machine, results, sweep, plots, seconds).write(report);
        TrialRunner.log("load at the end: " + ReportWriter.loadAverage());
        if (!replica.isEmpty()) {
            Files.writeString(report, replicaSection(replica, ReplicaLagRun.plot(params.out(), replica), params),
                    StandardOpenOption.APPEND);
        }
        TrialRunner.log(String.format("done in %.0f s: %s", seconds, params.out().resolve("results.md")));
    }

    private static String replicaSection(List<ReplicaLagRun.Result> runs, String plot, BenchParams params) {
        StringBuilder md = new StringBuilder("\n## With a streaming standby: lag without and with the throttle\n\n");
        md.append("A physical standby of the benchmark's server (a base backup started from the same binaries, see ")
                .append("`dev.zdm.postgres.replica.StandbyServer`), the application running, migrate_data of every row ")
                .append("once as is and once with `max_replica_lag_ms` ").append(params.maxReplicaLagMs())
                .append(". Lag sampled on the primary every 20 ms from pg_stat_replication: WAL written but not yet ")
                .append("replayed on the standby, and PostgreSQL's replay_lag.\n\n");
        md.append("| run | duration | max WAL not replayed | max replay_lag | reply |\n| --- | ---: | ---: | ---: | --- |\n");
        for (ReplicaLagRun.Result r : runs) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f s | %,.1f MB | %,d ms | %s |%n", r.label(), r.seconds(),
                    r.maxLagBytes() / 1e6, r.maxReplayLagMs(), r.outcome()));
        }
        md.append("\n![standby lag](").append(plot).append(")\n");
        return md.toString();
    }
}
