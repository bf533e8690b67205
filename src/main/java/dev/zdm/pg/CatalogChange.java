package dev.zdm.pg;

import java.util.List;

/**
 * What a statement changes in the catalog, as data, so the simulator can apply it to its model. The
 * PostgreSQL engine runs the statement's SQL instead and reads the catalog back.
 */
public sealed interface CatalogChange {

    /**
     * {@code existingRowsGetDefault}: the old rows read the default (ADD COLUMN ... DEFAULT); false
     * when the default is set for new rows only and the old rows stay NULL until a backfill.
     */
    record AddColumn(SqlName column, DataType type, String defaultSql, boolean notNull,
                     boolean existingRowsGetDefault) implements CatalogChange {
    }

    record AddNotNullCheck(SqlName constraint, SqlName column) implements CatalogChange {
    }

    record ValidateConstraint(SqlName constraint) implements CatalogChange {
    }

    record SetNotNull(SqlName column) implements CatalogChange {
    }

    record DropConstraint(SqlName constraint) implements CatalogChange {
    }

    record CreateIndex(SqlName index, List<SqlName> columns, boolean unique) implements CatalogChange {
        public CreateIndex {
            columns = List.copyOf(columns);
        }
    }

    record DropIndex(SqlName index) implements CatalogChange {
    }
}
