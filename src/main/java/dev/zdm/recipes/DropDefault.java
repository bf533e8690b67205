package dev.zdm.recipes;

import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.Statement;
import dev.zdm.pg.TableWork;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import java.util.List;

/**
 * drop_default {table, column} → default_dropped {duration_seconds, table_locked}: the catalog only,
 * under an instant of ACCESS EXCLUSIVE; rows keep their values. A column without a default is left as
 * it is (PostgreSQL does the same without an error).
 */
public final class DropDefault extends ColumnRecipe {

    @Override
    public String type() {
        return "drop_default";
    }

    @Override
    public Plan plan(Column spec, ServerVersion version, CatalogView catalog) {
        Alter.requireColumn(catalog, spec.table(), spec.column());
        Alter.requirePlainDefault(catalog, spec.table(), spec.column(), "drop a default of");
        return new Plan(spec.table(), List.of(new Statement(spec.table(), Alter.table(spec.table()) + "ALTER COLUMN "
                + spec.column().quoted() + " DROP DEFAULT", LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true,
                null, new CatalogChange.DropDefault(spec.column(), null))));
    }

    @Override
    public Reply reply(Request request, Column spec, Outcome outcome) {
        return Reply.to(request, "default_dropped")
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked());
    }
}
