package dev.zdm.recipes;

import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * drop_column {table, column, cascade = false} → column_dropped {duration_seconds, table_locked,
 * table_rewritten}. DROP COLUMN marks the column dropped in the catalog, under an instant of ACCESS
 * EXCLUSIVE: no row is rewritten (the space comes back as rows are updated, or with a rewrite). It
 * would drop the indexes and constraints that involve the column without a word; zdm names each (22)
 * unless {@code cascade}, and with it their drop locks the tables a foreign key joins (ACCESS
 * EXCLUSIVE, seen in pg_locks on 15). Nothing to undo: it is one statement.
 */
public final class DropColumn extends CascadingDrop {

    public DropColumn() {
        super("column");
    }

    @Override
    public String type() {
        return "drop_column";
    }

    @Override
    public Plan plan(Spec spec, ServerVersion version, CatalogView catalog) {
        SqlName t = spec.table();
        Alter.requireColumn(catalog, t, spec.name());
        Alter.columnInheritedFrom(catalog, t, spec.name()).ifPresent(parent -> {
            throw ZdmException.precondition("cannot drop inherited column " + spec.name() + " of " + t + ": it comes from "
                    + parent + " (SQLSTATE 42P16); drop it there (drop_column on " + parent + "), which drops it from"
                    + " every " + (catalog.lineage(t).partition() ? "partition" : "child") + " too");
        });
        List<SqlName> key = catalog.lineage(t).partitionKey();
        if (key != null && key.contains(spec.name())) {
            throw ZdmException.precondition("cannot drop column " + spec.name() + " because it is part of the partition key"
                    + " of relation " + t + " (SQLSTATE 42P16)");
        }
        List<String> dependents = catalog.dependents(t, spec.name());
        if (!dependents.isEmpty() && !spec.cascade()) {
            throw ZdmException.precondition("column " + t + "." + spec.name() + " is used by " + String.join(", ", dependents)
                    + ": dropping it drops them too; send cascade: true to drop them with it");
        }
        Set<SqlName> others = new LinkedHashSet<>();
        for (ConstraintInfo c : catalog.constraints(t)) {
            if (c.refTable() != null && c.columns().contains(spec.name())) {
                others.add(c.refTable());
            }
        }
        for (ConstraintInfo fk : catalog.referencing(t)) {
            if (fk.refColumns().contains(spec.name())) {
                others.add(fk.table());
            }
        }
        return new Plan(t, List.of(Alter.drop(t, Alter.table(t) + "DROP COLUMN " + spec.name().quoted()
                + (spec.cascade() ? " CASCADE" : ""), new CatalogChange.DropColumn(spec.name(), spec.cascade()), others)));
    }

    @Override
    public List<String> notes(Spec spec, ServerVersion version, CatalogView catalog) {
        List<String> notes = new java.util.ArrayList<>();
        notes.add("the column is marked dropped in the catalog; its space in the rows comes back as they are"
                + " updated (or with VACUUM FULL, which rewrites under ACCESS EXCLUSIVE)");
        if (spec.cascade() && catalog.column(spec.table(), spec.name()) != dev.zdm.pg.CatalogView.Presence.ABSENT) {
            List<String> dependents = catalog.dependents(spec.table(), spec.name());
            notes.add(dependents.isEmpty() ? "cascade: nothing else depends on the column, so nothing else is dropped"
                    : "cascade: dropped with the column: " + String.join(", ", dependents));
        }
        return notes;
    }

    @Override
    public Reply reply(Request request, Spec spec, Outcome outcome) {
        return Reply.to(request, "column_dropped")
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked())
                .put("table_rewritten", outcome.tableRewritten());
    }
}
