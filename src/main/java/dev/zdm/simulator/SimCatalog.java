package dev.zdm.simulator;

import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.DataType;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.VolatileFunctions;
import dev.zdm.protocol.ZdmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The simulator's schema: tables with their columns, row counts, constraints and heap file number,
 * and the indexes. It applies {@link CatalogChange}s as PostgreSQL would, refusing what PostgreSQL
 * refuses (e.g. SET NOT NULL over NULLs), and copies itself so a plan can be rolled back exactly.
 */
public final class SimCatalog implements CatalogView {

    /** {@code hasNulls}: some row holds NULL in this column, which NOT NULL and its CHECK must refuse. */
    public record Column(DataType type, String defaultSql, boolean notNull, boolean hasNulls) {
    }

    public record Constraint(SqlName column, boolean validated) {
    }

    public record Index(SqlName table, List<SqlName> columns, boolean unique, boolean valid) {
    }

    public static final class Table {
        final Map<SqlName, Column> columns = new LinkedHashMap<>();
        final Map<SqlName, Constraint> checks = new LinkedHashMap<>();
        SqlName primaryKey;
        long rows;
        long relfilenode;

        Table copy() {
            Table copy = new Table();
            copy.columns.putAll(columns);
            copy.checks.putAll(checks);
            copy.primaryKey = primaryKey;
            copy.rows = rows;
            copy.relfilenode = relfilenode;
            return copy;
        }

        public Map<SqlName, Column> columns() {
            return Map.copyOf(columns);
        }

        public Map<SqlName, Constraint> checks() {
            return Map.copyOf(checks);
        }

        public long rows() {
            return rows;
        }

        public long relfilenode() {
            return relfilenode;
        }
    }

    private final Map<SqlName, Table> tables = new LinkedHashMap<>();
    private final Map<SqlName, Index> indexes = new LinkedHashMap<>();
    private long nextRelfilenode = 16384;

    /** users (id bigint primary key, email text, name text), the table the course's examples assume. */
    public static SimCatalog withUsersTable(long rows) {
        SimCatalog catalog = new SimCatalog();
        SqlName users = SqlName.of("users");
        Table table = new Table();
        table.columns.put(SqlName.of("id"), new Column(new DataType("bigint"), null, true, false));
        table.columns.put(SqlName.of("email"), new Column(DataType.TEXT, null, false, rows > 0));
        table.columns.put(SqlName.of("name"), new Column(DataType.TEXT, null, false, rows > 0));
        table.primaryKey = SqlName.of("id");
        table.rows = rows;
        table.relfilenode = catalog.nextRelfilenode++;
        catalog.tables.put(users, table);
        catalog.indexes.put(SqlName.of("users_pkey"), new Index(users, List.of(SqlName.of("id")), true, true));
        return catalog;
    }

    public SimCatalog copy() {
        SimCatalog copy = new SimCatalog();
        tables.forEach((name, table) -> copy.tables.put(name, table.copy()));
        copy.indexes.putAll(indexes);
        copy.nextRelfilenode = nextRelfilenode;
        return copy;
    }

    /** Takes over another catalog's state: the rollback of a plan. */
    void restore(SimCatalog snapshot) {
        tables.clear();
        snapshot.tables.forEach((name, table) -> tables.put(name, table.copy()));
        indexes.clear();
        indexes.putAll(snapshot.indexes);
        nextRelfilenode = snapshot.nextRelfilenode;
    }

    public Table table(SqlName name) {
        Table table = tables.get(name);
        if (table == null) {
            throw ZdmException.missing("table " + name);
        }
        return table;
    }

    public Map<SqlName, Index> indexes() {
        return Map.copyOf(indexes);
    }

    void apply(SqlName tableName, CatalogChange change) {
        Table table = table(tableName);
        if (change instanceof CatalogChange.AddColumn add) {
            boolean nullsLeft = table.rows > 0 && (add.defaultSql() == null || !add.existingRowsGetDefault());
            if (add.notNull() && nullsLeft) {
                throw ZdmException.precondition("column " + add.column() + " of " + tableName + " contains null values");
            }
            table.columns.put(add.column(), new Column(add.type(), add.defaultSql(), add.notNull(), nullsLeft));
        } else if (change instanceof CatalogChange.AddNotNullCheck check) {
            table.checks.put(check.constraint(), new Constraint(check.column(), false));
        } else if (change instanceof CatalogChange.ValidateConstraint validate) {
            Constraint check = table.checks.get(validate.constraint());
            if (table.columns.get(check.column()).hasNulls()) {
                throw ZdmException.precondition("check constraint " + validate.constraint() + " of " + tableName
                        + " is violated by some row");
            }
            table.checks.put(validate.constraint(), new Constraint(check.column(), true));
        } else if (change instanceof CatalogChange.SetNotNull set) {
            Column column = table.columns.get(set.column());
            if (column.hasNulls()) {
                throw ZdmException.precondition("column " + set.column() + " of " + tableName + " contains null values");
            }
            table.columns.put(set.column(), new Column(column.type(), column.defaultSql(), true, false));
        } else if (change instanceof CatalogChange.DropConstraint drop) {
            table.checks.remove(drop.constraint());
        } else if (change instanceof CatalogChange.CreateIndex create) {
            indexes.put(create.index(), new Index(tableName, create.columns(), create.unique(), true));
        } else if (change instanceof CatalogChange.DropIndex drop) {
            indexes.remove(drop.index());
        } else {
            throw new IllegalArgumentException("no model for " + change);
        }
    }

    /** A concurrent build that failed after its first transaction leaves its index INVALID. */
    void addInvalidIndex(SqlName tableName, CatalogChange.CreateIndex create) {
        indexes.put(create.index(), new Index(tableName, create.columns(), create.unique(), false));
    }

    /** After a backfill of these columns no row holds NULL in them. */
    void filled(SqlName tableName, Set<SqlName> columns) {
        Table table = table(tableName);
        for (SqlName name : columns) {
            Column column = table.columns.get(name);
            table.columns.put(name, new Column(column.type(), column.defaultSql(), column.notNull(), false));
        }
    }

    void rewrite(SqlName tableName) {
        table(tableName).relfilenode = nextRelfilenode++;
    }

    @Override
    public boolean tableExists(SqlName table) {
        return tables.containsKey(table);
    }

    @Override
    public Set<SqlName> columns(SqlName table) {
        return tableExists(table) ? new LinkedHashSet<>(tables.get(table).columns.keySet()) : Set.of();
    }

    @Override
    public Optional<IndexState> index(SqlName name) {
        return Optional.ofNullable(indexes.get(name)).map(i -> i.valid() ? IndexState.VALID : IndexState.INVALID);
    }

    @Override
    public Optional<SqlName> singleColumnPrimaryKey(SqlName table) {
        return Optional.ofNullable(table(table).primaryKey);
    }

    @Override
    public boolean hasRows(SqlName table) {
        return table(table).rows > 0;
    }

    @Override
    public boolean isVolatile(SqlExpression expression) {
        return VolatileFunctions.isVolatile(expression);
    }

}
