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
     * {@code ownedSequence}: the sequence made with the column (a serial's), dropped with it; or null.
     */
    record AddColumn(SqlName column, DataType type, String defaultSql, boolean notNull,
                     boolean existingRowsGetDefault, SqlName ownedSequence) implements CatalogChange {

        /** A column without a sequence of its own. */
        public AddColumn(SqlName column, DataType type, String defaultSql, boolean notNull, boolean existingRowsGetDefault) {
            this(column, type, defaultSql, notNull, existingRowsGetDefault, null);
        }
    }

    /** The column's own default dropped; {@code inheritedSql} is what then applies (a domain's), or null. */
    record DropDefault(SqlName column, String inheritedSql) implements CatalogChange {
    }

    record AddNotNullCheck(SqlName constraint, SqlName column) implements CatalogChange {
    }

    /**
     * ADD CONSTRAINT constraint NOT NULL column NOT VALID (18+): the column refuses NULL in new rows at
     * once; its old rows are checked by VALIDATE CONSTRAINT.
     */
    record AddNotNullConstraint(SqlName constraint, SqlName column) implements CatalogChange {
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

    /** SET DEFAULT: for rows inserted from now on; the rows there keep what they hold. */
    record SetDefault(SqlName column, String defaultSql) implements CatalogChange {
    }

    record DropNotNull(SqlName column) implements CatalogChange {
    }

    /**
     * ADD CONSTRAINT ... CHECK (expression) NOT VALID; {@code columns}: the table's columns the
     * expression names, as far as they can be told.
     */
    record AddCheck(SqlName constraint, String expression, List<SqlName> columns) implements CatalogChange {
        public AddCheck {
            columns = List.copyOf(columns);
        }
    }

    /** ADD CONSTRAINT ... FOREIGN KEY (columns) REFERENCES refTable (refColumns) NOT VALID. */
    record AddForeignKey(SqlName constraint, List<SqlName> columns, SqlName refTable, List<SqlName> refColumns)
            implements CatalogChange {
        public AddForeignKey {
            columns = List.copyOf(columns);
            refColumns = List.copyOf(refColumns);
        }
    }

    /** An index the request asked to drop (not a failed build's leftover: that is {@link DropIndex}). */
    record RemoveIndex(SqlName index) implements CatalogChange {
    }

    /**
     * ADD CONSTRAINT ... UNIQUE | PRIMARY KEY USING INDEX: the valid unique index becomes the key's
     * (under the constraint's name); a primary key's columns must be NOT NULL already.
     */
    record AddKeyUsingIndex(SqlName constraint, SqlName index, List<SqlName> columns, boolean primary)
            implements CatalogChange {
        public AddKeyUsingIndex {
            columns = List.copyOf(columns);
        }
    }

    /** DROP CONSTRAINT ... CASCADE: the key and the foreign keys of other tables that reference it. */
    record DropConstraintCascade(SqlName constraint, List<ConstraintInfo> dependents) implements CatalogChange {
        public DropConstraintCascade {
            dependents = List.copyOf(dependents);
        }
    }

    /**
     * DROP COLUMN: the column, the indexes and constraints of the table that involve it, and with
     * {@code cascade} the foreign keys of other tables that reference it.
     */
    record DropColumn(SqlName column, boolean cascade) implements CatalogChange {
    }
}
