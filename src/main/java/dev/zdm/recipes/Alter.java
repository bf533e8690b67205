package dev.zdm.recipes;

import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ColumnGeneration;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.TableWork;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** What the recipes share: the ALTER TABLE prefix, and the checks of what a request names. */
final class Alter {

    private Alter() {
    }

    /**
     * The table a request names: {@code table}, in {@code schema} when given, else where the
     * search_path finds it (as PlanHandler.tableOf reads it for the other operations).
     */
    static SqlName tableOf(Request request, CatalogView catalog) {
        String schema = request.has("schema") ? request.string("schema") : null;
        return dev.zdm.pg.SystemSchemas.requireUserTable(
                catalog.resolve(SqlName.table(schema, request.string("table"))), catalog);
    }

    static String table(SqlName table) {
        return "ALTER TABLE " + table.quoted() + " ";
    }

    static String columns(List<SqlName> columns) {
        return columns.stream().map(SqlName::quoted).collect(Collectors.joining(", "));
    }

    static String names(List<SqlName> columns) {
        return columns.stream().map(SqlName::value).collect(Collectors.joining(", "));
    }

    static void requireTable(CatalogView catalog, SqlName table) {
        if (!catalog.tableExists(table)) {
            throw ZdmException.missing("table " + table);
        }
    }

    static CatalogView.ColumnFacts requireColumn(CatalogView catalog, SqlName table, SqlName column) {
        requireTable(catalog, table);
        return catalog.columnFacts(table, column)
                .orElseThrow(() -> ZdmException.missing("column " + table + "." + column));
    }

    static Optional<ConstraintInfo> constraint(CatalogView catalog, SqlName table, SqlName name) {
        return catalog.constraints(table).stream().filter(c -> c.name().equals(name)).findFirst();
    }

    static ConstraintInfo requireConstraint(CatalogView catalog, SqlName table, SqlName name) {
        requireTable(catalog, table);
        return constraint(catalog, table, name)
                .orElseThrow(() -> ZdmException.missing("constraint " + name + " of table " + table));
    }

    /**
     * The parent the column comes from (pg_attribute.attinhcount > 0: a parent of a partition or an
     * inheritance child has a column of that name, which the child's merged with), empty for a column of
     * the table's own. PostgreSQL drops or changes such a column only through the parent (42P16).
     */
    static Optional<SqlName> columnInheritedFrom(CatalogView catalog, SqlName table, SqlName column) {
        return catalog.lineage(table).parents().stream()
                .filter(parent -> catalog.column(parent, column) == CatalogView.Presence.PRESENT).findFirst();
    }

    /**
     * The parent the constraint comes from (pg_constraint.coninhcount > 0): a parent's constraint of the
     * same name and kind (a CHECK, a foreign key, 18's NOT NULL), or for a partition's key the parent's key
     * whose index the partition's index is attached to (named by the partition, not by the parent).
     */
    static Optional<SqlName> constraintInheritedFrom(CatalogView catalog, SqlName table, ConstraintInfo constraint) {
        for (SqlName parent : catalog.lineage(table).parents()) {
            if (constraint(catalog, parent, constraint.name()).filter(c -> c.kind() == constraint.kind()).isPresent()) {
                return Optional.of(parent);
            }
            if (constraint.isKey() && constraint.index() != null) {
                Optional<SqlName> parentIndex = catalog.parentIndex(
                        new SqlName(catalog.schemaOf(table), constraint.index().value()));
                if (parentIndex.isPresent() && catalog.constraints(parent).stream().anyMatch(c -> c.isKey()
                        && c.index() != null && c.index().value().equals(parentIndex.get().value()))) {
                    return Optional.of(parent);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Identity and generated columns take no DEFAULT of their own: SET DEFAULT and DROP DEFAULT are
     * refused on them on every version that has them (42601, seen on 10, 12, 13, 17 and 18).
     */
    static void requirePlainDefault(CatalogView catalog, SqlName table, SqlName column, String what) {
        ColumnGeneration generation = catalog.generatedColumns(table).getOrDefault(column, ColumnGeneration.NONE);
        if (generation == ColumnGeneration.GENERATED) {
            throw ZdmException.precondition("column " + column + " of " + table + " is a generated column (SQLSTATE"
                    + " 42601): its value is its expression's, and PostgreSQL refuses to " + what + " it");
        }
        if (generation != ColumnGeneration.NONE) {
            throw ZdmException.precondition("column " + column + " of " + table + " is " + generation.describe()
                    + " (SQLSTATE 42601): its values come from its sequence, and PostgreSQL refuses to " + what + " it");
        }
    }

    /** The key of the table whose columns include this one: a primary key's column cannot lose NOT NULL. */
    static Optional<ConstraintInfo> primaryKeyWith(CatalogView catalog, SqlName table, SqlName column) {
        return catalog.constraints(table).stream()
                .filter(c -> c.kind() == ConstraintInfo.Kind.PRIMARY_KEY && c.columns().contains(column)).findFirst();
    }

    /**
     * A drop of the catalog only, under an instant of ACCESS EXCLUSIVE on its table and on each of
     * {@code others} (the tables whose foreign keys go with it: their triggers are dropped there).
     */
    static Statement drop(SqlName table, String sql, CatalogChange change, Set<SqlName> others) {
        List<Statement.OtherLock> locks = new ArrayList<>();
        others.stream().filter(o -> !o.equals(table))
                .forEach(o -> locks.add(new Statement.OtherLock(o, LockMode.ACCESS_EXCLUSIVE)));
        return new Statement(table, sql, LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, null, change, locks);
    }
}
