package dev.zdm.pg;

import java.util.ArrayList;
import java.util.List;

/**
 * NOT NULL without holding ACCESS EXCLUSIVE through a scan: a CHECK (c IS NOT NULL) added NOT VALID
 * (an instant under ACCESS EXCLUSIVE), validated under SHARE UPDATE EXCLUSIVE (reads and writes go on).
 * From 12 on, SET NOT NULL trusts that validated CHECK and skips its scan, so the CHECK can go; before
 * 12 SET NOT NULL would scan under ACCESS EXCLUSIVE, so the validated CHECK stays as the guarantee.
 */
public final class NotNullSteps {

    private NotNullSteps() {
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
