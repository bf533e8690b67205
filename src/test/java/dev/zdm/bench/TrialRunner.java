package dev.zdm.bench;

import dev.zdm.postgres.Database;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Runs one trial: settle the table, start the workload and the lock sampler, let it warm up, measure
 * the quiet baseline, run the operation, keep the workload going a little longer (for the plot), stop.
 * Each trial has a clock, recorder, workload and sampler of its own, so nothing leaks between the
 * naive and the zdm run of a pair except the table, which {@link UsersTable#settle} puts back.
 */
final class TrialRunner {

    private final Database database;
    private final Connection admin;
    private final ZdmClient zdm;
    private final BenchParams params;

    TrialRunner(Database database, Connection admin, ZdmClient zdm, BenchParams params) {
        this.database = database;
        this.admin = admin;
        this.zdm = zdm;
        this.params = params;
    }

    TrialResult run(OperationPair pair, Way way) throws SQLException, InterruptedException {
        pair.reset(admin);
        params.schema().settle(admin);
        String statement = switch (way) {
            case NAIVE -> pair.naiveSql();
            case ZDM -> pair.zdmRequest(zdm);
            case REFERENCE -> String.join("; ", pair.referenceSql());
        };
        log(pair.name() + " " + way.label + ": " + statement);
        LatencyRecorder recorder = new LatencyRecorder();
        long baseFrom;
        long baseTo;
        long opStart;
        long opEnd;
        OperationPair.Outcome outcome = null;
        String failure = null;
        LockWaitSampler sampler = new LockWaitSampler(database, recorder);
        AppWorkload workload = new AppWorkload(database, params.schema(), recorder, params.rows(), params.threads(),
                params.ratePerThread(), params.statementTimeout());
        try (sampler; workload) {
            sampler.start();
            workload.start();
            Thread.sleep(params.warmup().toMillis());
            baseFrom = recorder.now();
            Thread.sleep(params.baseline().toMillis());
            baseTo = recorder.now();
            opStart = recorder.now();
            try {
                outcome = switch (way) {
                    case NAIVE -> pair.naive(admin);
                    case ZDM -> pair.zdm(zdm);
                    case REFERENCE -> pair.reference(admin);
                };
            } catch (ZdmException e) {
                failure = "error " + e.code().code() + ": " + e.getMessage();
            } catch (SQLException e) {
                failure = "SQL error " + e.getSQLState() + ": " + e.getMessage();
            }
            opEnd = recorder.now();
            Thread.sleep(params.tail().toMillis());
        }
        WindowStats baseline = WindowStats.of(recorder.startedBetween(baseFrom, baseTo), baseFrom, baseTo);
        WindowStats during = WindowStats.of(recorder.startedBetween(opStart, opEnd), opStart, opEnd);
        // A wait the operation caused ends when it ends; the sample that sees its full length may come
        // one interval later.
        long waitTo = opEnd + 2 * LockWaitSampler.INTERVAL_MS * 1_000_000L;
        TrialResult result = new TrialResult(pair, way, statement, baseline, during,
                sampler.longestWaitMs(opStart, waitTo), sampler.longestWaitMs(baseFrom, baseTo),
                sampler.waitEvents(opStart, waitTo), (opEnd - opStart) / 1e9,
                outcome == null ? -1 : outcome.rows(), outcome == null ? "" : outcome.detail(), failure,
                recorder.all(), opStart, opEnd);
        log(String.format("%s %s: %.2f s%s; app p99 %.1f ms (baseline %.1f ms), max %.1f ms, longest lock wait %.0f ms",
                pair.name(), way.label, result.opSeconds(), failure == null ? "" : " FAILED " + failure,
                during.p99Ms(), baseline.p99Ms(), during.maxMs(), result.longestLockWaitMs()));
        return result;
    }

    static void log(String message) {
        System.err.println("bench: " + message);
        System.err.flush();
    }
}
