package dev.zdm.recipes;

import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ConstraintInfo;
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
import java.util.Set;

/**
 * validate_constraint {table, constraint} → constraint_validated {constraint, duration_seconds,
 * table_locked}. VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE, which lets reads
 * and writes go on (ALTER TABLE, "VALIDATE CONSTRAINT"); a foreign key's also takes ROW SHARE on the
 * table it references. Only a CHECK or a foreign key can be NOT VALID; a row that breaks it fails the
 * scan (22) and leaves the constraint NOT VALID.
 */
public final class ValidateConstraint implements Recipe<ValidateConstraint.Spec> {

    public record Spec(SqlName table, SqlName constraint) {
    }

    @Override
    public String type() {
        return "validate_constraint";
    }

    @Override
    public Set<String> fields() {
        return Set.of("table", "schema", "constraint");
    }

    @Override
    public Spec parse(Request request, CatalogView catalog) {
        return new Spec(Alter.tableOf(request, catalog), SqlName.of(request.string("constraint")));
    }

    @Override
    public SqlName table(Spec spec) {
        return spec.table();
    }

    @Override
    public Plan plan(Spec spec, ServerVersion version, CatalogView catalog) {
        ConstraintInfo constraint = Alter.requireConstraint(catalog, spec.table(), spec.constraint());
        if (constraint.kind() != ConstraintInfo.Kind.CHECK && constraint.kind() != ConstraintInfo.Kind.FOREIGN_KEY
                && constraint.kind() != ConstraintInfo.Kind.NOT_NULL) {
            throw ZdmException.precondition("constraint " + spec.constraint() + " of " + spec.table() + " is a "
                    + constraint.kind() + " constraint: only a check, a foreign key or (from PostgreSQL 18) a not null"
                    + " can be validated");
        }
        return new Plan(spec.table(), List.of(step(spec.table(), constraint, catalog)));
    }

    /** VALIDATE CONSTRAINT of that constraint, with the locks it takes. */
    static Statement step(SqlName table, ConstraintInfo constraint, CatalogView catalog) {
        List<Statement.OtherLock> others = new java.util.ArrayList<>();
        if (constraint.refTable() != null && !constraint.refTable().equals(table)) {
            others.add(new Statement.OtherLock(constraint.refTable(), LockMode.ROW_SHARE));
            // The validating query reads a partitioned referenced table's partitions (pg_locks on 15).
            others.addAll(dev.zdm.pg.Planner.treeLocks(catalog, constraint.refTable(), LockMode.ACCESS_SHARE));
        }
        return new Statement(table, Alter.table(table) + "VALIDATE CONSTRAINT " + constraint.name().quoted(),
                LockMode.SHARE_UPDATE_EXCLUSIVE, TableWork.SCAN, true, null,
                new CatalogChange.ValidateConstraint(constraint.name()), others);
    }

    @Override
    public Reply reply(Request request, Spec spec, Outcome outcome) {
        return Reply.to(request, "constraint_validated")
                .put("constraint", spec.constraint().value())
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked());
    }
}
