package dev.zdm.pg;

/**
 * What a PostgreSQL major version does on disk for the statements zdm issues. Every version-dependent
 * fact the planner and the simulator rely on lives here, with the release that changed it.
 */
public record ServerVersion(int major) {

    public static final ServerVersion DEFAULT = new ServerVersion(15);
    public static final int OLDEST_SUPPORTED = 9;

    public ServerVersion {
        if (major < OLDEST_SUPPORTED || major > 99) {
            throw new IllegalArgumentException("not a PostgreSQL major version: " + major);
        }
    }

    /**
     * ADD COLUMN with a non-volatile DEFAULT rewrote every row before 11; since 11 the value is kept
     * once in pg_attribute.attmissingval (release notes 11, "Allow ALTER TABLE to add a column with a
     * non-null default without doing a table rewrite"). A volatile default rewrites in every version.
     */
    public boolean constantDefaultRewrites() {
        return major < 11;
    }

    /**
     * ADD FOREIGN KEY ... NOT VALID on a partitioned table: refused before 18 ("cannot add NOT VALID
     * foreign key on partitioned table", tablecmds.c; seen on 15), allowed from 18 (release notes 18,
     * NOT VALID foreign keys on partitioned tables). Without it the only way is a validating ADD, which
     * reads every partition under SHARE ROW EXCLUSIVE.
     */
    public boolean notValidForeignKeyOnPartitioned() {
        return major >= 18;
    }

    /**
     * SET NOT NULL scans the table under ACCESS EXCLUSIVE unless, from 12 on, a validated
     * CHECK (col IS NOT NULL) already proves it (ALTER TABLE, SET/DROP NOT NULL).
     */
    public boolean setNotNullTrustsValidatedCheck() {
        return major >= 12;
    }

    /**
     * Whether the old rows of a column added without a default of its own read its domain's default.
     * Before 11 the rewrite writes it into every row; from 13 it is kept as the missing value. On 11 and
     * 12 neither happens: the old rows read NULL, so NOT NULL fails on a table with rows (23502), and a
     * volatile domain default does not rewrite. Seen by the fuzzer on embedded 11 and 12 (domain text
     * DEFAULT 'x', NOT NULL: 22; domain DEFAULT random(): relfilenode unchanged), not on 10 or 13-17.
     */
    public boolean domainDefaultFillsOldRows() {
        return major < 11 || major >= 13;
    }

    /**
     * From 18 a column's NOT NULL is a row of pg_constraint (contype 'n') with a name, chosen as
     * ChooseConstraintName chooses one ({@code <table>_<column>_not_null}, then a number), so it takes a
     * constraint name of the table; it can be added NOT VALID ({@code ADD CONSTRAINT name NOT NULL col
     * NOT VALID}: an instant under ACCESS EXCLUSIVE, new rows refused NULL at once, attnotnull set) and
     * validated by VALIDATE CONSTRAINT under SHARE UPDATE EXCLUSIVE, without a rewrite (release notes 18,
     * "Store column NOT NULL specifications in pg_constraint" and "Allow NOT NULL constraints to be added
     * as NOT VALID"; seen on embedded 18.0: pg_locks during both, relfilenode unchanged). DROP NOT NULL
     * drops the constraint; a failed VALIDATE is 23502, "column ... contains null values".
     */
    public boolean notNullIsConstraint() {
        return major >= 18;
    }

    /**
     * ADD CONSTRAINT FOREIGN KEY (NOT VALID) and UNIQUE USING INDEX on an inheritance parent lock its
     * children from 18 on (a child held ACCESS EXCLUSIVE: 55P03 on embedded 18.0; the ALTER went through
     * on 10, 12, 15 and 17). DROP or VALIDATE of such a constraint stays on the parent on every version.
     */
    public boolean keyAddLocksInheritanceChildren() {
        return major >= 18;
    }

    @Override
    public String toString() {
        return Integer.toString(major);
    }
}
