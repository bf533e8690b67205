package dev.zdm.simulator;

import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.Planner;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import java.util.List;

/**
 * What a statement does to the model's catalog, as the server does it: a rewrite, the change itself, and
 * where the server recurses, the same change on every partition and child below the table.
 */
final class StatementEffects {

    private StatementEffects() {
    }

    static void apply(SimCatalog catalog, ServerVersion version, Statement statement) {
        SqlName table = statement.table();
        if (statement.work().rewrites()) {
            catalog.rewrite(table);
        }
        catalog.apply(table, statement.change());
        Planner planner = new Planner(version, catalog);
        if (statement.change() instanceof CatalogChange.CreateIndex create && catalog.lineage(table).partitioned()) {
            // A plain CREATE INDEX on a partitioned table recurses: every partition gets its index, attached.
            for (Planner.Cascaded below : planner.plainIndexRecursion(table, create.index(),
                    create.columns(), create.unique(), p -> catalog.adoptableIndex(p, create.columns(), create.unique()))) {
                catalog.apply(below.table(), below.change());
            }
        }
        if (statement.change() instanceof CatalogChange.AddColumn add) {
            // ADD COLUMN on a parent adds it to every partition and child (each checked as the server checks it).
            var parentNotNull = catalog.constraints(table).stream().filter(c -> c.kind() == ConstraintInfo.Kind.NOT_NULL
                    && c.columns().equals(List.of(add.column()))).map(ConstraintInfo::name).findFirst();
            for (SqlName below : planner.descendants(table)) {
                catalog.apply(below, statement.change());
                parentNotNull.ifPresent(name -> catalog.inheritNotNullName(below, add.column(), name));
            }
        }
        if (recursesToChildren(statement)) {
            // ALTER TABLE without ONLY: the NOT NULL steps reach every partition and child, an inherited
            // constraint under the parent's name (a drop or a validation where the child has it).
            SqlName constraint = statement.change() instanceof CatalogChange.ValidateConstraint v ? v.constraint()
                    : statement.change() instanceof CatalogChange.DropConstraint d ? d.constraint() : null;
            for (SqlName below : planner.descendants(table)) {
                if (constraint == null || catalog.constraints(below).stream().anyMatch(c -> c.name().value().equals(constraint.value()))) {
                    catalog.apply(below, statement.change());
                }
            }
        }
    }

    private static boolean recursesToChildren(Statement statement) {
        CatalogChange change = statement.change();
        return statement.sql().startsWith("ALTER TABLE " + statement.table().quoted() + " ")
                && (change instanceof CatalogChange.AddNotNullCheck || change instanceof CatalogChange.AddNotNullConstraint
                || change instanceof CatalogChange.ValidateConstraint || change instanceof CatalogChange.SetNotNull
                || change instanceof CatalogChange.DropConstraint || change instanceof CatalogChange.AddCheck
                || change instanceof CatalogChange.SetDefault || change instanceof CatalogChange.DropDefault
                || change instanceof CatalogChange.DropNotNull);
    }
}
