package dev.zdm.pg;

import java.util.List;

/**
 * A unique btree index that names every row and orders them as a plain ORDER BY of its columns does:
 * valid, over the whole table (no predicate), plain columns (no expressions), each NOT NULL, ascending,
 * in the column's own collation and its type's default operator class. Such an index serves both a
 * keyset batch's row comparison {@code (a, b) > ($1, $2)} and its ORDER BY, and no two rows share a
 * position along it. {@code primary}: the table's primary key.
 */
public record UniqueKey(SqlName index, List<KeyColumn> columns, boolean primary) {

    public UniqueKey {
        columns = List.copyOf(columns);
    }

    /**
     * The condition on a pg_index row {@code i} (and its table's pg_attribute rows) that the index
     * orders as its plain columns do, read the same way by the engine and by {@code --schema-from}:
     * no predicate, no expression, every key column ascending, in its column's collation, with its
     * type's default operator class. (INCLUDE columns have no operator class and do not count.)
     */
    public static final String PLAIN_ORDER_SQL = """
            i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
            AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey::int2[], i.indcollation::oid[], i.indclass::oid[],
                                                 i.indoption::int2[]) AS k(attnum, coll, opclass, opt)
                JOIN pg_attribute ka ON ka.attrelid = i.indrelid AND ka.attnum = k.attnum
                JOIN pg_opclass ko ON ko.oid = k.opclass
                WHERE k.coll <> ka.attcollation OR NOT ko.opcdefault OR k.opt <> 0)""";
}
