package dev.zdm.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.postgres.Database;
import dev.zdm.postgres.replica.StandbyServer;
import dev.zdm.protocol.ZdmException;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/**
 * migrate_data of every row with a streaming standby attached, once without and once with the
 * throttle (max_replica_lag_ms), the application running: how far behind the standby falls, sampled
 * from pg_stat_replication on the primary every 20 ms (WAL bytes not yet replayed, and PostgreSQL's
 * replay_lag), and what the throttle costs in duration. One PNG of the lag over time for both runs.
 */
final class ReplicaLagRun {

    /** One run: the request, its reply or failure, and the lag over time. */
    record Result(String label, String request, double seconds, String outcome, long maxLagBytes, long maxReplayLagMs,
                  List<double[]> lag) {
    }

    private final Database database;
    private final Connection admin;
    private final ZdmClient zdm;
    private final BenchParams params;

    ReplicaLagRun(Database database, Connection admin, ZdmClient zdm, BenchParams params) {
        this.database = database;
        this.admin = admin;
        this.zdm = zdm;
        this.params = params;
    }

    /** Both runs, on a standby made for them and removed after. */
    List<Result> run(long maxLagMs) throws Exception {
        int port;
        try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery("SHOW port")) {
            rs.next();
            port = rs.getInt(1);
        }
        List<Result> results = new ArrayList<>();
        try (StandbyServer standby = StandbyServer.of(admin, port)) {
            for (Long throttle : new Long[] {null, maxLagMs}) {
                params.schema().settle(admin);
                standby.awaitCaughtUp(admin, java.time.Duration.ofMinutes(2));
                results.add(once(throttle));
            }
        } finally {
            try (Statement s = admin.createStatement()) {
                s.execute("SELECT pg_drop_replication_slot('" + StandbyServer.SLOT + "')");
            }
        }
        return results;
    }

    private Result once(Long maxLagMs) throws Exception {
        Schema schema = params.schema();
        ObjectNode body = zdm.body("migrate_data");
        body.put("table", schema.table);
        body.put("batch_size", params.batchSize());
        // Expressions of their own (not the main trials + 1): each run is a new job, not a finished one resumed.
        body.putObject("set").put(schema.dataColumn, schema.dataColumn + (maxLagMs == null ? " + 2" : " + 3"));
        body.put("explain", true);
        if (maxLagMs != null) {
            body.put("max_replica_lag_ms", maxLagMs);
        }
        String label = maxLagMs == null ? "no throttle" : "max_replica_lag_ms " + maxLagMs;
        TrialRunner.log("replica run, " + label + ": " + ZdmClient.show(body));
        LatencyRecorder recorder = new LatencyRecorder();
        List<double[]> lag = new ArrayList<>();
        long[] max = new long[2];
        String outcome;
        long started;
        long ended;
        try (AppWorkload workload = new AppWorkload(database, schema, recorder, params.rows(), params.threads(),
                params.ratePerThread(), params.statementTimeout());
             Connection sampler = database.connect("bench-lag-sampler")) {
            workload.start();
            Thread.sleep(params.warmup().toMillis());
            started = System.nanoTime();
            Thread lagThread = new Thread(() -> sample(sampler, started, lag, max));
            lagThread.setDaemon(true);
            lagThread.start();
            try {
                ObjectNode reply = zdm.send(body);
                outcome = "total_rows " + reply.path("total_rows").asText() + ", batches " + reply.path("batches").asText()
                        + ", throttled_ms " + reply.path("observed").path("throttled_ms").asText()
                        + MigrateDataPair.batchNote(reply);
            } catch (ZdmException e) {
                outcome = "error " + e.code().code() + ": " + e.getMessage();
            }
            ended = System.nanoTime();
            Thread.sleep(params.tail().toMillis());
            lagThread.interrupt();
            lagThread.join();
        }
        double seconds = (ended - started) / 1e9;
        TrialRunner.log(String.format(Locale.ROOT, "replica run, %s: %.2f s, %s; max lag %,d bytes, replay_lag %d ms",
                label, seconds, outcome, max[0], max[1]));
        return new Result(label, ZdmClient.show(body), seconds, outcome, max[0], max[1], lag);
    }

    /** Every 20 ms: seconds since start, WAL bytes the standby has not replayed, replay_lag in ms. */
    private static void sample(Connection c, long started, List<double[]> into, long[] max) {
        try (Statement s = c.createStatement()) {
            while (!Thread.currentThread().isInterrupted()) {
                try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn() - replay_lsn,"
                        + " coalesce(extract(epoch FROM replay_lag) * 1000, 0) FROM pg_stat_replication")) {
                    if (rs.next()) {
                        long bytes = rs.getLong(1);
                        long ms = (long) rs.getDouble(2);
                        synchronized (into) {
                            into.add(new double[] {(System.nanoTime() - started) / 1e9, bytes / 1e6, ms});
                        }
                        max[0] = Math.max(max[0], bytes);
                        max[1] = Math.max(max[1], ms);
                    }
                }
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException e) {
            TrialRunner.log("lag sampler stopped: " + e.getMessage());
        }
    }

    /** replica_lag.png: WAL not yet replayed (MB) over time, one line per run. */
    static String plot(Path dir, List<Result> results) throws IOException {
        XYChart chart = new XYChartBuilder().width(PlotWriter.WIDTH).height(PlotWriter.PANEL_HEIGHT)
                .title("standby lag during migrate_data, with and without the throttle")
                .xAxisTitle("seconds from the request").yAxisTitle("WAL not yet replayed on the standby, MB").build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setMarkerSize(0);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (Result r : results) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (double[] p : r.lag()) {
                xs.add(p[0]);
                ys.add(p[1]);
            }
            if (xs.isEmpty()) {
                xs.add(0.0);
                ys.add(0.0);
            }
            chart.addSeries(r.label(), xs, ys);
        }
        String file = "replica_lag.png";
        BitmapEncoder.saveBitmap(chart, dir.resolve(file).toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }
}
