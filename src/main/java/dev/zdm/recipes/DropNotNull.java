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
import dev.zdm.protocol.ZdmException;
import java.util.List;

/**
 * drop_not_null {table, column} → not_null_dropped {duration_seconds, table_locked}: ALTER COLUMN DROP
 * NOT NULL, the catalog only under an instant of ACCESS EXCLUSIVE. A primary key's column keeps its
 * NOT NULL (PostgreSQL refuses: 22).
 */
public final class DropNotNull extends ColumnRecipe {

    @Override
    public String type() {
        return "drop_not_null";
    }

    @Override
    public Plan plan(Column spec, ServerVersion version, CatalogView catalog) {
        Alter.requireColumn(catalog, spec.table(), spec.column());
        Alter.primaryKeyWith(catalog, spec.table(), spec.column()).ifPresent(key -> {
            throw ZdmException.precondition("column " + spec.table() + "." + spec.column() + " is in the primary key "
                    + key.name() + ": it stays NOT NULL");
        });
        return new Plan(spec.table(), List.of(new Statement(spec.table(), Alter.table(spec.table()) + "ALTER COLUMN "
                + spec.column().quoted() + " DROP NOT NULL", LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true,
                null, new CatalogChange.DropNotNull(spec.column()))));
    }

    @Override
    public Reply reply(Request request, Column spec, Outcome outcome) {
        return Reply.to(request, "not_null_dropped")
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked());
    }
}
