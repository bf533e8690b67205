package dev.zdm.handlers;

import dev.zdm.engine.Engine;
import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.Planner.IndexSpec;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.time.Duration;
import java.util.List;

/**
 * create_index {table, column | columns[], concurrently = true, unique = false, index?}
 * → index_created {index, duration_seconds, table_locked}.
 */
public final class CreateIndexHandler extends PlanHandler<IndexSpec> {

    private final CatalogView catalog;

    public CreateIndexHandler(Engine engine, Duration defaultLockBudget) {
        super(engine, defaultLockBudget);
        this.catalog = engine.catalog();
    }

    @Override
    public String type() {
        return "create_index";
    }

    @Override
    List<String> ownFields() {
        return List.of("table", "column", "columns", "index", "unique", "concurrently");
    }

    @Override
    IndexSpec parse(Request request) {
        SqlName table = tableOf(request);
        List<SqlName> columns = columns(request);
        SqlName name = request.has("index") ? SqlName.of(request.string("index")) : IndexSpec.defaultName(table, columns, catalog);
        return new IndexSpec(table, columns, name, request.bool("unique", false), request.bool("concurrently", true));
    }

    @Override
    Plan plan(IndexSpec spec, Planner planner) {
        return planner.createIndex(spec);
    }

    @Override
    SqlName table(IndexSpec spec) {
        return spec.table();
    }

    @Override
    Reply reply(Request request, IndexSpec spec, Outcome outcome) {
        return Reply.to(request, "index_created")
                .put("index", spec.name().value())
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked());
    }

    private static List<SqlName> columns(Request request) {
        if (request.has("column") == request.has("columns")) {
            throw ZdmException.malformed("give either column or columns");
        }
        List<String> names = request.has("column") ? List.of(request.string("column")) : request.strings("columns");
        List<SqlName> columns = names.stream().map(SqlName::of).toList();
        if (columns.stream().distinct().count() != columns.size()) {
            throw ZdmException.malformed("columns names a column twice");
        }
        return columns;
    }
}
