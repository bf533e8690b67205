package dev.zdm.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.engine.Engine;
import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ColumnDefault;
import dev.zdm.pg.DataType;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.Planner.ColumnSpec;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlLiteral;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * add_column {table, column, data_type = text, default? (a JSON literal) | default_sql? (an SQL
 * expression), nullable = true, safe = true, sleep_ms = 0 (between backfill batches)} → column_added {duration_seconds, table_rewritten}.
 */
public final class AddColumnHandler extends PlanHandler<ColumnSpec> {

    private final CatalogView catalog;

    public AddColumnHandler(Engine engine, Duration defaultLockBudget) {
        super(engine, defaultLockBudget);
        this.catalog = engine.catalog();
    }

    @Override
    public String type() {
        return "add_column";
    }

    @Override
    List<String> ownFields() {
        List<String> fields = new ArrayList<>(List.of("table", "column", "data_type", "default", "default_sql",
                "nullable", "safe"));
        fields.addAll(BACKFILL_FIELDS);
        return fields;
    }

    @Override
    ColumnSpec parse(Request request) {
        SqlName table = tableOf(request);
        SqlName column = SqlName.of(request.string("column"));
        DataType type = request.has("data_type") ? DataType.of(request.string("data_type")) : DataType.TEXT;
        return new ColumnSpec(table, column, type, defaultOf(request, type), request.bool("nullable", true),
                request.bool("safe", true), request.integer("sleep_ms", 0, MigrateDataHandler.MAX_SLEEP_MS, 0L));
    }

    @Override
    Plan plan(ColumnSpec spec, Planner planner) {
        return planner.addColumn(spec);
    }

    @Override
    SqlName table(ColumnSpec spec) {
        return spec.table();
    }

    /** Pacing says how, not what. */
    @Override
    String identity(ColumnSpec spec) {
        return type() + ":" + new ColumnSpec(spec.table(), spec.column(), spec.type(), spec.defaultValue(),
                spec.nullable(), spec.safe());
    }

    @Override
    Reply reply(Request request, ColumnSpec spec, Outcome outcome) {
        return Reply.to(request, "column_added")
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_rewritten", outcome.tableRewritten());
    }

    private ColumnDefault defaultOf(Request request, DataType type) {
        if (request.has("default") && request.has("default_sql")) {
            throw ZdmException.malformed("give default or default_sql, not both");
        }
        if (request.has("default_sql")) {
            SqlExpression expression = new SqlExpression(request.string("default_sql"));
            return new ColumnDefault.Expression(expression, catalog.isVolatile(expression));
        }
        if (request.has("default")) {
            if (request.raw("default").isTextual()) {
                SqlLookingDefault.refuse(request.raw("default").textValue(), type);
            }
            return new ColumnDefault.Constant(literal(request.raw("default")));
        }
        return new ColumnDefault.None();
    }

    /** A JSON value as an SQL constant: strings quoted, numbers and booleans as they are. */
    public static String literal(JsonNode value) {
        if (value.isTextual()) {
            return SqlLiteral.of(value.asText());
        }
        if (value.isNumber()) {
            return value.asText();
        }
        if (value.isBoolean()) {
            return value.asBoolean() ? "true" : "false";
        }
        if (value.isContainerNode()) {
            return SqlLiteral.of(value.toString());
        }
        throw ZdmException.malformed("default must be a string, number, boolean, object or array");
    }
}
