package dev.zdm.recipes;

import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * drop_constraint {table, constraint, cascade = false} → constraint_dropped {constraint,
 * duration_seconds, table_locked}. DROP CONSTRAINT changes the catalog only, under an instant of
 * ACCESS EXCLUSIVE; a foreign key's drop takes ACCESS EXCLUSIVE on the table it references too (its
 * triggers live there: seen in pg_locks on 15), and a key's drop takes its index with it. A key that
 * foreign keys of other tables reference is refused (22, naming them) unless {@code cascade}, which
 * drops them too, under ACCESS EXCLUSIVE on their tables.
 */
public final class DropConstraint extends CascadingDrop {

    public DropConstraint() {
        super("constraint");
    }

    @Override
    public String type() {
        return "drop_constraint";
    }

    @Override
    public Plan plan(Spec spec, ServerVersion version, CatalogView catalog) {
        SqlName t = spec.table();
        ConstraintInfo constraint = Alter.requireConstraint(catalog, t, spec.name());
        Alter.constraintInheritedFrom(catalog, t, constraint).ifPresent(parent -> {
            throw ZdmException.precondition("cannot drop inherited constraint " + spec.name() + " of " + t + ": it comes"
                    + " from " + parent + " (SQLSTATE 42P16); drop it there (drop_constraint on " + parent + "), which"
                    + " drops it from every " + (catalog.lineage(t).partition() ? "partition" : "child") + " too");
        });
        List<ConstraintInfo> dependents = constraint.isKey() ? catalog.referencing(t).stream()
                .filter(fk -> Set.copyOf(fk.refColumns()).equals(Set.copyOf(constraint.columns())))
                .filter(fk -> !fk.name().equals(constraint.name()) || !fk.table().equals(t)).toList() : List.of();
        if (!dependents.isEmpty() && !spec.cascade()) {
            throw ZdmException.precondition("constraint " + spec.name() + " of " + t + " is referenced by "
                    + dependents.stream().map(fk -> "constraint " + fk.name() + " on table " + fk.table())
                    .collect(Collectors.joining(", ")) + ": drop those first, or send cascade: true");
        }
        Set<SqlName> others = new LinkedHashSet<>();
        if (constraint.refTable() != null) {
            others.add(constraint.refTable());
            // Its triggers live on every partition of a partitioned referenced table too (pg_locks on 15).
            others.addAll(Planner.partitionsBelow(catalog, constraint.refTable()));
        }
        dependents.forEach(fk -> others.add(fk.table()));
        CatalogChange change = dependents.isEmpty() ? new CatalogChange.DropConstraint(spec.name())
                : new CatalogChange.DropConstraintCascade(spec.name(), dependents);
        return new Plan(t, List.of(Alter.drop(t, Alter.table(t) + "DROP CONSTRAINT " + spec.name().quoted()
                + (dependents.isEmpty() ? "" : " CASCADE"), change, others)));
    }

    @Override
    public Reply reply(Request request, Spec spec, Outcome outcome) {
        return Reply.to(request, "constraint_dropped")
                .put("constraint", spec.name().value())
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked());
    }
}
