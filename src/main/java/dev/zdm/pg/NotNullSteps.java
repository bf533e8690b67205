package dev.zdm.pg;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * NOT NULL without holding ACCESS EXCLUSIVE through a scan: a CHECK (c IS NOT NULL) added NOT VALID
 * (an instant under ACCESS EXCLUSIVE), validated under SHARE UPDATE EXCLUSIVE (reads and writes go on).
 * From 12 on, SET NOT NULL trusts that validated CHECK and skips its scan, so the CHECK can go; before
 * 12 SET NOT NULL would scan under ACCESS EXCLUSIVE, so the validated CHECK stays as the guarantee.
 * From 18 the NOT NULL itself is added NOT VALID and validated ({@link ServerVersion#notNullIsConstraint}):
 * two statements, one instant of ACCESS EXCLUSIVE, and the constraint keeps the name PostgreSQL would
 * give it (through a CHECK, SET NOT NULL would find that name taken by the check and add a number).
 */
public final class NotNullSteps {

    private NotNullSteps() {
    }

    /**
     * The safe steps for that server, under a name chosen as PostgreSQL chooses one (ChooseConstraintName:
     * {@code <table>_<column>_not_null} from 18, {@code <table>_<column>_check} for the CHECK before),
     * free of the names {@code taken}.
     */
    public static List<Statement> safe(ServerVersion version, SqlName table, SqlName column, Predicate<SqlName> taken) {
        return of(version, table, column, ObjectNames.choose(table.value(), column.value(), label(version), taken));
    }

    /** The label of the name PostgreSQL would give what the safe steps add: the NOT NULL's own from 18, a CHECK's before. */
    public static String label(ServerVersion version) {
        return version.notNullIsConstraint() ? "not_null" : "check";
    }

    /** The safe steps for that server, adding the NOT NULL constraint (18+) or the CHECK under {@code name}. */
    public static List<Statement> of(ServerVersion version, SqlName table, SqlName column, SqlName name) {
        return version.notNullIsConstraint() ? notValid(table, column, name) : viaCheck(version, table, column, name);
    }

    /** ADD CONSTRAINT ... NOT NULL ... NOT VALID, then VALIDATE (18+). */
    public static List<Statement> notValid(SqlName table, SqlName column, SqlName constraint) {
        String alter = "ALTER TABLE " + table.quoted() + " ";
        return List.of(
                new Statement(table, alter + "ADD CONSTRAINT " + constraint.quoted() + " NOT NULL " + column.quoted()
                        + " NOT VALID", LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true,
                        alter + "DROP CONSTRAINT IF EXISTS " + constraint.quoted(),
                        new CatalogChange.AddNotNullConstraint(constraint, column)),
                new Statement(table, alter + "VALIDATE CONSTRAINT " + constraint.quoted(),
                        LockMode.SHARE_UPDATE_EXCLUSIVE, TableWork.SCAN, true, null,
                        new CatalogChange.ValidateConstraint(constraint)));
    }

    public static List<Statement> viaCheck(ServerVersion version, SqlName table, SqlName column, SqlName check) {
        String alter = "ALTER TABLE " + table.quoted() + " ";
        List<Statement> steps = new ArrayList<>();
        steps.add(new Statement(table, alter + "ADD CONSTRAINT " + check.quoted() + " CHECK (" + column.quoted()
                + " IS NOT NULL) NOT VALID", LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true,
                alter + "DROP CONSTRAINT IF EXISTS " + check.quoted(), new CatalogChange.AddNotNullCheck(check, column)));
        steps.add(new Statement(table, alter + "VALIDATE CONSTRAINT " + check.quoted(),
                LockMode.SHARE_UPDATE_EXCLUSIVE, TableWork.SCAN, true, null,
                new CatalogChange.ValidateConstraint(check)));
        if (version.setNotNullTrustsValidatedCheck()) {
            steps.add(new Statement(table, alter + "ALTER COLUMN " + column.quoted() + " SET NOT NULL",
                    LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, null, new CatalogChange.SetNotNull(column)));
            steps.add(new Statement(table, alter + "DROP CONSTRAINT " + check.quoted(),
                    LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, null,
                    new CatalogChange.DropConstraint(check)));
        }
        return steps;
    }
}
