package dev.zdm.recipes;

import dev.zdm.engine.Outcome;
import dev.zdm.handlers.AddColumnHandler;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ColumnDefault;
import dev.zdm.pg.DefaultCheck;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.TableWork;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.util.List;
import java.util.Set;

/**
 * set_default {table, column, default (a JSON literal) | default_sql (an expression)} → default_set
 * {duration_seconds, table_locked}. ALTER COLUMN SET DEFAULT changes the catalog only, under an
 * instant of ACCESS EXCLUSIVE, whatever the expression: the rows there keep what they hold, and only
 * rows inserted from then on read the default.
 */
public final class SetDefault implements Recipe<SetDefault.Spec> {

    public record Spec(SqlName table, SqlName column, ColumnDefault value) {
    }

    @Override
    public String type() {
        return "set_default";
    }

    @Override
    public Set<String> fields() {
        return Set.of("table", "schema", "column", "default", "default_sql");
    }

    @Override
    public Spec parse(Request request, CatalogView catalog) {
        SqlName table = Alter.tableOf(request, catalog);
        SqlName column = SqlName.of(request.string("column"));
        if (request.has("default") == request.has("default_sql")) {
            throw ZdmException.malformed("give default or default_sql (one of them)");
        }
        ColumnDefault value = request.has("default_sql")
                ? new ColumnDefault.Expression(new SqlExpression(request.string("default_sql")), false)
                : new ColumnDefault.Constant(AddColumnHandler.literal(request.raw("default")));
        return new Spec(table, column, value);
    }

    @Override
    public SqlName table(Spec spec) {
        return spec.table();
    }

    @Override
    public Plan plan(Spec spec, ServerVersion version, CatalogView catalog) {
        Alter.requireColumn(catalog, spec.table(), spec.column());
        Alter.requirePlainDefault(catalog, spec.table(), spec.column(), "set a default on");
        DefaultCheck.check(version, catalog, spec.value() instanceof ColumnDefault.Constant
                ? catalog.columnType(spec.table(), spec.column()) : null, spec.value());
        return new Plan(spec.table(), List.of(new Statement(spec.table(), Alter.table(spec.table()) + "ALTER COLUMN "
                + spec.column().quoted() + " SET DEFAULT " + spec.value().sql(), LockMode.ACCESS_EXCLUSIVE,
                TableWork.CATALOG_ONLY, true, null, new CatalogChange.SetDefault(spec.column(), spec.value().sql()))));
    }

    @Override
    public List<String> notes(Spec spec, ServerVersion version, CatalogView catalog) {
        return List.of("the rows already in " + spec.table() + " keep their " + spec.column()
                + ": the default applies to rows inserted from now on (migrate_data fills old rows in batches)");
    }

    @Override
    public Reply reply(Request request, Spec spec, Outcome outcome) {
        return Reply.to(request, "default_set")
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked());
    }
}
