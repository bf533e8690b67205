package dev.zdm.recipes;

import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.NotNullSteps;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.TableWork;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import java.util.List;

/**
 * set_not_null {table, column} → not_null_set {duration_seconds, table_locked, table_rewritten}. A
 * plain SET NOT NULL scans the whole table under ACCESS EXCLUSIVE; the safe way is
 * {@link NotNullSteps}: CHECK (c IS NOT NULL) NOT VALID, VALIDATE under SHARE UPDATE EXCLUSIVE, then
 * from 12 SET NOT NULL, which trusts the check, and the check dropped; before 12 the validated check
 * stays and is the guarantee; from 18 the NOT NULL constraint itself is added NOT VALID and validated.
 * The name is chosen as PostgreSQL chooses one (ChooseConstraintName: table_column_check, from 18
 * table_column_not_null, then a number), so it never meets a name in use.
 */
public final class SetNotNull extends ColumnRecipe {

    @Override
    public String type() {
        return "set_not_null";
    }

    @Override
    public Plan plan(Column spec, ServerVersion version, CatalogView catalog) {
        SqlName t = spec.table();
        SqlName c = spec.column();
        if (Alter.requireColumn(catalog, t, c).notNull()) {
            // From 18 attnotnull is set by a NOT VALID NOT NULL too (one a crash left, or the user's), and
            // SET NOT NULL would validate it by a scan under ACCESS EXCLUSIVE: VALIDATE does it under SHARE
            // UPDATE EXCLUSIVE.
            var invalid = catalog.constraints(t).stream().filter(k -> k.kind() == ConstraintInfo.Kind.NOT_NULL
                    && !k.validated() && k.columns().equals(List.of(c))).findFirst();
            if (invalid.isPresent()) {
                return new Plan(t, List.of(ValidateConstraint.step(t, invalid.get(), catalog)));
            }
            // Already NOT NULL: SET NOT NULL is then a no-op PostgreSQL answers without a scan.
            return new Plan(t, List.of(new Statement(t, Alter.table(t) + "ALTER COLUMN " + c.quoted() + " SET NOT NULL",
                    LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, null, new CatalogChange.SetNotNull(c))));
        }
        return new Plan(t, List.copyOf(NotNullSteps.safe(version, t, c, n -> catalog.constraintExists(t.sibling(n)))));
    }

    @Override
    public List<String> notes(Column spec, ServerVersion version, CatalogView catalog) {
        String validate = "VALIDATE reads every row of " + spec.table() + " while reads and writes go on; a NULL in "
                + spec.column() + " fails it (22) and the " + (version.notNullIsConstraint() ? "NOT NULL constraint" : "check")
                + " is dropped again";
        if (version.setNotNullTrustsValidatedCheck()) {
            return List.of(validate);
        }
        return List.of(validate, "before PostgreSQL 12 SET NOT NULL would scan " + spec.table() + " under ACCESS EXCLUSIVE"
                + " even with the check: the validated check stays and is the guarantee; " + spec.column()
                + " is not marked NOT NULL in pg_attribute");
    }

    @Override
    public Reply reply(Request request, Column spec, Outcome outcome) {
        return Reply.to(request, "not_null_set")
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked())
                .put("table_rewritten", outcome.tableRewritten());
    }
}
