package dev.zdm.recipes;

import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.Lineage;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
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
        Lineage lineage = catalog.lineage(spec.table());
        for (SqlName parent : lineage.parents()) {
            boolean parentNotNull = catalog.columnFacts(parent, spec.column()).map(CatalogView.ColumnFacts::notNull)
                    .orElse(false);
            if (parentNotNull && lineage.partition()) {
                // ATExecDropNotNull, on every version with partitions (seen on 10 to 18).
                throw ZdmException.precondition("column " + spec.column() + " is marked NOT NULL in parent table "
                        + parent + " (SQLSTATE 42P16): a partition keeps its parent's NOT NULL; drop it on " + parent
                        + ", which drops it on every partition");
            }
            if (parentNotNull && version.notNullIsConstraint()) {
                // 18: an inheritance child's NOT NULL is a constraint inherited from the parent's (coninhcount > 0).
                throw ZdmException.precondition("cannot drop inherited constraint: the NOT NULL of " + spec.table() + "."
                        + spec.column() + " comes from " + parent + " (SQLSTATE 42P16, PostgreSQL " + version.major()
                        + "); drop it on " + parent + ", which drops it on its children");
            }
        }
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
