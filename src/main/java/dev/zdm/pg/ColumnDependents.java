package dev.zdm.pg;

/**
 * What DROP COLUMN would drop with a column or refuse for, read from pg_depend, for the tables of an
 * oid[] parameter: one row per (table oid, column name, dependent), the dependent named as zdm's
 * replies name it ("index i", "constraint c", "generated column g", "view v", "trigger t", "policy p":
 * a trigger's UPDATE OF or WHEN, a policy's expressions), names as they are, never
 * quoted, so that both engines say the same. A generated column depends on what its expression reads
 * directly, column on column (from 13), or through its pg_attrdef (12): both are read; a plain default
 * cannot read a column, so an attrdef on another column is a generated column's. A foreign key of
 * another table that references the column is not here: the catalog's referencing keys name it, with
 * its table. A column's own NOT NULL (a constraint from 18) goes with it and is not a dependent.
 */
public final class ColumnDependents {

    private ColumnDependents() {
    }

    public static final String SQL = """
            SELECT DISTINCT t.oid, a.attname, CASE
                WHEN g.attnum IS NOT NULL THEN 'generated column ' || g.attname
                WHEN ga.attnum IS NOT NULL THEN 'generated column ' || ga.attname
                WHEN d.classid = 'pg_class'::regclass THEN 'index ' || x.relname
                WHEN d.classid = 'pg_constraint'::regclass THEN 'constraint ' || k.conname
                WHEN d.classid = 'pg_trigger'::regclass THEN 'trigger ' || tg.tgname
                WHEN d.classid = 'pg_policy'::regclass THEN 'policy ' || po.polname
                ELSE 'view ' || v.relname END
            FROM pg_depend d
            JOIN pg_class t ON t.oid = d.refobjid
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid AND NOT a.attisdropped
            LEFT JOIN pg_class x ON d.classid = 'pg_class'::regclass AND x.oid = d.objid AND x.relkind IN ('i', 'I')
            LEFT JOIN pg_attribute g ON d.classid = 'pg_class'::regclass AND d.objid = t.oid AND g.attrelid = t.oid
                AND g.attnum = d.objsubid AND g.attnum <> a.attnum AND NOT g.attisdropped
            LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid AND ad.adrelid = t.oid
            LEFT JOIN pg_attribute ga ON ga.attrelid = ad.adrelid AND ga.attnum = ad.adnum AND ga.attnum <> a.attnum
                AND NOT ga.attisdropped
            LEFT JOIN pg_constraint k ON d.classid = 'pg_constraint'::regclass AND k.oid = d.objid
            LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
            LEFT JOIN pg_class v ON v.oid = r.ev_class
            LEFT JOIN pg_trigger tg ON d.classid = 'pg_trigger'::regclass AND tg.oid = d.objid AND NOT tg.tgisinternal
            LEFT JOIN pg_policy po ON d.classid = 'pg_policy'::regclass AND po.oid = d.objid
            WHERE d.refclassid = 'pg_class'::regclass AND t.oid = ANY (?) AND d.refobjsubid > 0
              AND (x.oid IS NOT NULL OR g.attnum IS NOT NULL OR ga.attnum IS NOT NULL
                   OR (k.oid IS NOT NULL AND k.contype <> 'n' AND k.conrelid = t.oid)
                   OR (v.oid IS NOT NULL AND v.oid <> t.oid) OR tg.oid IS NOT NULL OR po.oid IS NOT NULL)
              AND NOT (x.oid IS NOT NULL AND EXISTS (SELECT 1 FROM pg_constraint kc WHERE kc.conindid = x.oid
                       AND kc.conrelid = t.oid AND kc.contype IN ('u', 'p', 'x')))
            ORDER BY 1, 2, 3""";
}
