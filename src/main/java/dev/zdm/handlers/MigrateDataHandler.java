package dev.zdm.handlers;

import dev.zdm.engine.Engine;
import dev.zdm.engine.Outcome;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.Planner.MigrationSpec;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.Text;
import dev.zdm.protocol.ZdmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * migrate_data {table, batch_size, total_rows?, set? {column: sql}, where?, sleep_ms = 0}
 * → data_migrated {total_rows, batches, table_locked}.
 */
public final class MigrateDataHandler extends PlanHandler<MigrationSpec> {

    static final long MAX_BATCH_SIZE = 1_000_000;
    static final long MAX_SLEEP_MS = 60_000;

    public MigrateDataHandler(Engine engine, Duration defaultLockBudget) {
        super(engine, defaultLockBudget);
    }

    @Override
    public String type() {
        return "migrate_data";
    }

    @Override
    List<String> ownFields() {
        List<String> fields = new ArrayList<>(List.of("table", "batch_size", "total_rows", "set", "where"));
        fields.addAll(BACKFILL_FIELDS);
        return fields;
    }

    @Override
    MigrationSpec parse(Request request) {
        SqlName table = tableOf(request);
        int batchSize = (int) request.integer("batch_size", 1, MAX_BATCH_SIZE);
        Long rowLimit = request.integer("total_rows", 0, Long.MAX_VALUE, null);
        Map<SqlName, SqlExpression> assignments = new LinkedHashMap<>();
        if (request.has("set")) {
            request.stringMap("set").forEach((column, sql) -> {
                // Two keys for one column (the same name as PostgreSQL reads it): which one wins is a guess.
                if (assignments.put(SqlName.of(column), new SqlExpression(sql)) != null) {
                    throw ZdmException.malformed("set names column " + SqlName.of(column) + " twice (as '"
                            + Text.capped(column) + "' and as another key PostgreSQL reads as the same name)");
                }
            });
        }
        SqlExpression condition = request.has("where") ? new SqlExpression(request.string("where")) : null;
        long sleepMs = request.integer("sleep_ms", 0, MAX_SLEEP_MS, 0L);
        return new MigrationSpec(table, assignments, condition, batchSize, rowLimit, sleepMs);
    }

    @Override
    Plan plan(MigrationSpec spec, Planner planner) {
        return planner.migrateData(spec);
    }

    @Override
    SqlName table(MigrationSpec spec) {
        return spec.table();
    }

    /** Batch size and pacing say how, not what: a resent job with another batch size resumes. */
    @Override
    String identity(MigrationSpec spec) {
        return type() + ":" + spec.table() + ":set=" + new TreeMap<>(spec.assignments().entrySet().stream()
                .collect(Collectors.toMap(e -> e.getKey().value(), e -> e.getValue().text())))
                + ":where=" + (spec.condition() == null ? "" : spec.condition().text()) + ":limit=" + spec.rowLimit();
    }

    @Override
    Reply reply(Request request, MigrationSpec spec, Outcome outcome) {
        return Reply.to(request, "data_migrated")
                .put("total_rows", outcome.rowsUpdated())
                .put("batches", outcome.batches())
                .put("table_locked", outcome.tableLocked());
    }
}
