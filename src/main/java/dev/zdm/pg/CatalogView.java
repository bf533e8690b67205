package dev.zdm.pg;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The schema facts the planner needs, answered by whichever engine is running. */
public interface CatalogView {

    enum IndexState { VALID, INVALID }

    /** ASSUMED: not known to the catalog, taken to exist (the simulator's open world). */
    enum Presence { PRESENT, ABSENT, ASSUMED }

    boolean tableExists(SqlName table);

    Set<SqlName> columns(SqlName table);

    /** Whether the column exists; a catalog that cannot know answers ASSUMED. */
    default Presence column(SqlName table, SqlName column) {
        return columns(table).contains(column) ? Presence.PRESENT : Presence.ABSENT;
    }

    /** Whether a schema of that name exists (CREATE TABLE in one that does not: 3F000); a catalog that cannot know answers ASSUMED. */
    default Presence schema(String name) {
        return Presence.ASSUMED;
    }

    /** Whether a relation of that name exists: tables, indexes, views and sequences share one name space. */
    default boolean relationExists(SqlName name) {
        return tableExists(name) || index(name).isPresent();
    }

    /**
     * Whether a query's FROM finds a relation of that name (a table, a view, a sequence, ...), as the
     * server resolves it through the search_path: a catalog that cannot know answers ASSUMED.
     */
    default Presence relationNamed(SqlName name) {
        return tableExists(name) || relationExists(name) ? Presence.PRESENT : Presence.ABSENT;
    }

    /** The index of that name in the table's schema, whatever table it is on. */
    Optional<IndexState> index(SqlName name);

    /**
     * The table a request's name means. A server resolves a name itself, as each statement does; a
     * model of one resolves it through the search_path it was read with.
     */
    default SqlName resolve(SqlName table) {
        return table;
    }

    /**
     * The schema the table is in, as the name resolves (null when no table has that name, or the
     * catalog has no schemas): what {@link SystemSchemas} checks.
     */
    default String tableSchema(SqlName table) {
        return table.schema();
    }

    /**
     * The schema to name next to the table's own relations (its indexes, a sequence): the one the
     * request named, or where the table is when an unqualified name would look elsewhere; null when the
     * unqualified name finds it (what a catalog without schemas always answers).
     */
    default String schemaOf(SqlName table) {
        return table.schema();
    }

    /**
     * The table's unique keys a batched job can walk along (see {@link UniqueKey}: valid, whole-table,
     * plain ascending columns, each NOT NULL), the primary key among them if it has one.
     */
    List<UniqueKey> uniqueKeys(SqlName table);

    /** The table's columns an UPDATE cannot simply set (identity, generated), each with its kind; the rest are ordinary. */
    default Map<SqlName, ColumnGeneration> generatedColumns(SqlName table) {
        return Map.of();
    }

    boolean hasRows(SqlName table);

    /**
     * The attribute numbers the table has used, a dropped column's too (max attnum): what PostgreSQL's
     * 1,600-column limit counts. A catalog that cannot see dropped columns counts the columns.
     */
    default int attributeNumbers(SqlName table) {
        return columns(table).size();
    }

    /**
     * Where only the type's input function can judge a constant (inet, an enum, a domain's CHECK), the
     * refusal the server gives it, asked of the server; empty where it takes it or no server can be asked.
     */
    default Optional<dev.zdm.protocol.ZdmException> constantRefusal(DataType type, String text) {
        return Optional.empty();
    }

    /**
     * What the connecting role may not do to the table, of what zdm's steps on a partition or child do to
     * it directly ("ownership" for CREATE INDEX, "UPDATE", "SELECT"); empty where it may all, or where no
     * server can be asked (a model takes the role to own what it changes).
     */
    default List<String> rightsLacking(SqlName table) {
        return List.of();
    }

    /**
     * The refusal the server gives a default expression that calls nothing volatile, evaluated as ADD COLUMN
     * evaluates it (division by zero, an overflow, a cast of text that is no value); empty where it takes it
     * or no server can be asked.
     */
    default Optional<dev.zdm.protocol.ZdmException> evaluationRefusal(SqlExpression expression) {
        return Optional.empty();
    }

    /** Whether {@link #constantRefusal} asks a server (else a constant of such a type is an assumption). */
    default boolean asksServerAboutConstants() {
        return false;
    }

    /** Whether the expression calls a volatile function, so that a DEFAULT of it rewrites. */
    boolean isVolatile(SqlExpression expression);

    /**
     * The domain the type name means, empty for any other type. A catalog that holds no domains (the
     * simulator's, unless a schema gives it some) has nothing to answer.
     */
    default Optional<DomainType> domain(DataType type) {
        return Optional.empty();
    }

    /** A column's type (null where zdm cannot name it or does not know it), its default (as the server prints it, or null) and whether it is NOT NULL. */
    record ColumnFacts(DataType type, String defaultSql, boolean notNull) {
    }

    /**
     * The column's type alone (null where unknown or absent), read without touching the table: no lock
     * on it, so a holder of ACCESS EXCLUSIVE does not make the question wait.
     */
    default DataType columnType(SqlName table, SqlName column) {
        return columnFacts(table, column).map(ColumnFacts::type).orElse(null);
    }

    /** The column as it is now; empty where it does not exist. An open world assumes it nullable, without a default. */
    Optional<ColumnFacts> columnFacts(SqlName table, SqlName column);

    /**
     * The columns an index of that name (in the table's schema) is on, in order; an expression's place
     * is null. Empty where no index has that name or the catalog cannot say.
     */
    default Optional<List<SqlName>> indexColumns(SqlName index) {
        return Optional.empty();
    }

    /**
     * Why row-level security applies to the connecting role's reads and writes of the table (policies
     * enabled, the role neither superuser nor BYPASSRLS, and not the owner or FORCE ROW LEVEL SECURITY):
     * an UPDATE then sees only the rows the policies show. Empty where it does not, or the catalog cannot say.
     */
    default Optional<String> rowSecurity(SqlName table) {
        return Optional.empty();
    }

    /** Whether the index of that name (in the table's schema) is unique; empty where none or the catalog cannot say. */
    default Optional<Boolean> indexUnique(SqlName index) {
        return Optional.empty();
    }

    /** The table an index of that name is on. */
    Optional<SqlName> indexTable(SqlName index);

    /** The table's constraints (checks, keys, foreign keys), in the order PostgreSQL lists them. */
    List<ConstraintInfo> constraints(SqlName table);

    /** The foreign keys, of any table, that reference this one. */
    List<ConstraintInfo> referencing(SqlName table);

    /**
     * Whether a valid unique index (a key's or one of its own, without a predicate or expression) is on
     * exactly these columns: what a foreign key can reference.
     */
    boolean hasUniqueIndexOn(SqlName table, java.util.Set<SqlName> columns);

    /**
     * What depends on the column besides the column itself, as "index x", "constraint y", "view z",
     * "constraint f on table t": what DROP COLUMN would drop with it or refuse for.
     */
    List<String> dependents(SqlName table, SqlName column);

    /** Whether a constraint of that name exists anywhere in the schema (ChooseConstraintName avoids it). */
    boolean constraintExists(SqlName name);

    /**
     * Where the table stands among partitions and inheritance (see {@link Lineage}). A catalog that
     * knows none answers {@link Lineage#ORDINARY}: the planner then treats the table as PostgreSQL treats
     * one with no parent and no children.
     */
    default Lineage lineage(SqlName table) {
        return Lineage.ORDINARY;
    }

    /**
     * The index on {@code partition} attached to the partitioned index {@code parentIndex} (pg_inherits
     * of indexes), empty where none is: what a create_index on a partitioned parent that an earlier run
     * began has already done, and skips.
     */
    default Optional<SqlName> attachedIndex(SqlName parentIndex, SqlName partition) {
        return Optional.empty();
    }

    /**
     * The partitioned index this index (a partition's) is attached to, empty where it is attached to
     * none: PostgreSQL drops such an index only with that one (2BP01, "index ... requires it").
     */
    default Optional<SqlName> parentIndex(SqlName index) {
        return Optional.empty();
    }
}
