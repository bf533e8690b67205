package dev.zdm.pg;

import dev.zdm.protocol.ZdmException;
import java.util.Set;

/**
 * Schemas whose tables no operation may touch: zdm's own ledger (a migrate_data setting
 * zdm.operations' state would forge its history) and the server's catalogs (pg_catalog,
 * information_schema, TOAST and temporary schemas), which belong to PostgreSQL. The schema is where
 * the name resolves, so an unqualified {@code pg_class} is pg_catalog's: the search_path reads
 * pg_catalog first unless it says otherwise.
 */
public final class SystemSchemas {

    /** zdm's ledger schema (LedgerSchema.SCHEMA, which lives in the engine's package). */
    public static final String LEDGER = "zdm";
    private static final Set<String> EXACT = Set.of(LEDGER, "pg_catalog", "information_schema", "pg_toast");

    private SystemSchemas() {
    }

    public static boolean isProtected(String schema) {
        if (schema == null) {
            return false;
        }
        // pg_temp names the session's temporary schema, pg_temp_N and pg_toast_temp_N each backend's.
        return EXACT.contains(schema) || schema.matches("pg_temp(_[0-9]+)?|pg_toast_temp_[0-9]+");
    }

    /** The table, when it is not in a protected schema, as named or as the catalog resolves it; else 22. */
    public static SqlName requireUserTable(SqlName table, CatalogView catalog) {
        String schema = table.schema() != null ? table.schema() : catalog.tableSchema(table);
        if (isProtected(schema)) {
            throw ZdmException.precondition("table " + table + " is in schema " + schema + ", which belongs to "
                    + (LEDGER.equals(schema) ? "zdm's own ledger" : "PostgreSQL's system catalogs")
                    + "; zdm changes only the application's tables");
        }
        return table;
    }
}
