package dev.zdm.postgres;

import dev.zdm.pg.CatalogView;
import dev.zdm.pg.DataType;
import dev.zdm.pg.DomainType;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The catalog as the planner must see it to plan again an add_column that a crashed run of the same
 * request left half-made: without that column, which is zdm's own and is resumed, not refused with 21.
 * Everything else is the server's catalog as it is.
 */
final class ResumedColumnView implements CatalogView {

    private final CatalogView catalog;
    private SqlName table;
    private SqlName column;
    private SqlName index;
    private SqlName constraint;

    ResumedColumnView(CatalogView catalog) {
        this.catalog = catalog;
    }

    /** Plans run by {@code planning} see {@code table} without {@code column}. */
    <T> T without(SqlName table, SqlName column, java.util.function.Supplier<T> planning) {
        this.table = table;
        this.column = column;
        try {
            return planning.get();
        } finally {
            this.table = null;
            this.column = null;
        }
    }

    /**
     * Plans run by {@code planning} see no index {@code index} next to {@code table}: the one an earlier
     * run of the same create_index built, which is its own, not another's name taken (21).
     */
    <T> T withoutIndex(SqlName table, SqlName index, java.util.function.Supplier<T> planning) {
        this.table = table;
        this.index = index;
        try {
            return planning.get();
        } finally {
            this.table = null;
            this.index = null;
        }
    }

    /**
     * Plans run by {@code planning} see no constraint {@code constraint} on {@code table}: the one an
     * earlier run of the same request committed (NOT VALID), which it resumes, not another's name (21).
     */
    <T> T withoutConstraint(SqlName table, SqlName constraint, java.util.function.Supplier<T> planning) {
        this.table = table;
        this.constraint = constraint;
        try {
            return planning.get();
        } finally {
            this.table = null;
            this.constraint = null;
        }
    }

    private boolean hiddenConstraint(SqlName t, SqlName name) {
        return constraint != null && table.equals(t) && constraint.equals(name);
    }

    /** By its bare name: the plan asks only of its own index, named in its table's schema. */
    private boolean hiddenIndex(SqlName name) {
        return index != null && name.value().equals(index.value());
    }

    private boolean hidden(SqlName t, SqlName c) {
        return table != null && column != null && table.equals(t) && column.equals(c);
    }

    @Override
    public boolean tableExists(SqlName t) {
        return catalog.tableExists(t);
    }

    @Override
    public Set<SqlName> columns(SqlName t) {
        Set<SqlName> columns = new LinkedHashSet<>(catalog.columns(t));
        if (table != null && column != null && table.equals(t)) {
            columns.remove(column);
        }
        return columns;
    }

    @Override
    public Presence column(SqlName t, SqlName c) {
        return hidden(t, c) ? Presence.ABSENT : catalog.column(t, c);
    }

    @Override
    public Presence relationNamed(SqlName name) {
        return catalog.relationNamed(name);
    }

    @Override
    public boolean relationExists(SqlName name) {
        // One name space: the hidden index's name is no other relation's.
        return !hiddenIndex(name) && catalog.relationExists(name);
    }

    @Override
    public Optional<IndexState> index(SqlName name) {
        return hiddenIndex(name) ? Optional.empty() : catalog.index(name);
    }

    @Override
    public java.util.List<dev.zdm.pg.UniqueKey> uniqueKeys(SqlName t) {
        return catalog.uniqueKeys(t);
    }

    @Override
    public java.util.Map<SqlName, dev.zdm.pg.ColumnGeneration> generatedColumns(SqlName t) {
        return catalog.generatedColumns(t);
    }

    @Override
    public SqlName resolve(SqlName table) {
        return catalog.resolve(table);
    }

    @Override
    public String tableSchema(SqlName table) {
        return catalog.tableSchema(table);
    }

    @Override
    public String schemaOf(SqlName table) {
        return catalog.schemaOf(table);
    }

    @Override
    public boolean hasRows(SqlName t) {
        return catalog.hasRows(t);
    }

    @Override
    public Optional<String> rowSecurity(SqlName table) {
        return catalog.rowSecurity(table);
    }

    @Override
    public Optional<Boolean> indexUnique(SqlName index) {
        return hiddenIndex(index) ? Optional.empty() : catalog.indexUnique(index);
    }

    @Override
    public Optional<java.util.List<SqlName>> indexColumns(SqlName index) {
        return hiddenIndex(index) ? Optional.empty() : catalog.indexColumns(index);
    }

    @Override
    public Optional<dev.zdm.protocol.ZdmException> constantRefusal(DataType type, String text) {
        return catalog.constantRefusal(type, text);
    }

    @Override
    public java.util.List<String> rightsLacking(SqlName t) {
        return catalog.rightsLacking(t);
    }

    @Override
    public boolean asksServerAboutConstants() {
        return catalog.asksServerAboutConstants();
    }

    @Override
    public DataType columnType(SqlName t, SqlName c) {
        return hidden(t, c) ? null : catalog.columnType(t, c);
    }

    @Override
    public int attributeNumbers(SqlName t) {
        return catalog.attributeNumbers(t);
    }

    @Override
    public boolean isVolatile(SqlExpression expression) {
        return catalog.isVolatile(expression);
    }

    @Override
    public Optional<DomainType> domain(DataType type) {
        return catalog.domain(type);
    }

    @Override
    public Optional<ColumnFacts> columnFacts(SqlName t, SqlName c) {
        if (hidden(t, c)) {
            return Optional.empty();
        }
        Optional<ColumnFacts> facts = catalog.columnFacts(t, c);
        // From 18 a NOT VALID NOT NULL sets attnotnull: with the crashed run's own constraint hidden, the
        // column is as it was before that run, nullable, and the plan is the one it made then.
        if (facts.isPresent() && facts.get().notNull() && constraint != null && table.equals(t)
                && catalog.constraints(t).stream().anyMatch(k -> k.name().equals(constraint)
                        && k.kind() == dev.zdm.pg.ConstraintInfo.Kind.NOT_NULL && !k.validated()
                        && k.columns().equals(java.util.List.of(c)))) {
            return Optional.of(new ColumnFacts(facts.get().type(), facts.get().defaultSql(), false));
        }
        return facts;
    }

    @Override
    public Optional<SqlName> indexTable(SqlName index) {
        return hiddenIndex(index) ? Optional.empty() : catalog.indexTable(index);
    }

    @Override
    public java.util.List<dev.zdm.pg.ConstraintInfo> constraints(SqlName t) {
        return catalog.constraints(t).stream().filter(c -> !hiddenConstraint(t, c.name())).toList();
    }

    @Override
    public java.util.List<dev.zdm.pg.ConstraintInfo> referencing(SqlName t) {
        return catalog.referencing(t).stream().filter(c -> !hiddenConstraint(c.table(), c.name())).toList();
    }

    @Override
    public boolean hasUniqueIndexOn(SqlName t, Set<SqlName> columns) {
        return catalog.hasUniqueIndexOn(t, columns);
    }

    @Override
    public java.util.List<String> dependents(SqlName t, SqlName c) {
        return hidden(t, c) ? java.util.List.of() : catalog.dependents(t, c);
    }

    @Override
    public boolean constraintExists(SqlName name) {
        // The hidden column's own NOT NULL check, made by the crashed run, goes with the column: its name is free.
        if (table != null && column != null && catalog.constraints(table).stream().anyMatch(k ->
                k.name().value().equals(name.value()) && k.columns().equals(java.util.List.of(column)))) {
            return false;
        }
        // By its bare name, as constraint names are chosen: the hidden one is no other's.
        return !(constraint != null && constraint.value().equals(name.value())) && catalog.constraintExists(name);
    }

    @Override
    public dev.zdm.pg.Lineage lineage(SqlName t) {
        return catalog.lineage(t);
    }

    @Override
    public Optional<dev.zdm.protocol.ZdmException> evaluationRefusal(dev.zdm.pg.SqlExpression expression) {
        return catalog.evaluationRefusal(expression);
    }

    @Override
    public Presence schema(String name) {
        return catalog.schema(name);
    }

    @Override
    public Optional<SqlName> parentIndex(SqlName index) {
        return hiddenIndex(index) ? Optional.empty() : catalog.parentIndex(index);
    }

    @Override
    public Optional<SqlName> attachedIndex(SqlName parentIndex, SqlName partition) {
        return catalog.attachedIndex(parentIndex, partition);
    }
}
