package dev.zdm.pg;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Where a table stands in a partition tree or an inheritance hierarchy: what the planner must know
 * because PostgreSQL treats such a table apart (CREATE INDEX CONCURRENTLY is refused on a partitioned
 * parent, a unique index there must hold the partition key, an UPDATE of a parent reaches its
 * children, a lock on one reaches the others).
 *
 * <p>{@code parents}: the tables it is a partition of (exactly one) or inherits from (one or more, in
 * pg_inherits' inhseqno order); {@code partition}: whether that link is partitioning (relispartition)
 * rather than plain inheritance. {@code partitionKey}: null unless the table is partitioned (relkind
 * 'p'), else its key's columns in order, an element null where the key has an expression there (no
 * column to name). {@code children}: its direct partitions or inheritance children, sorted by name so
 * that every catalog lists them in one order and both engines plan the same steps. Names are as the
 * catalog names tables: bare in the current schema, qualified elsewhere. {@code foreign}: the table is a
 * foreign table (relkind 'f', a partition served by a foreign data wrapper): its rows live on another
 * server, so zdm can neither build an index on it nor walk it in batches along a key.
 * {@code keyExpressionColumns}: the columns an expression of the partition key reads
 * ({@code lower(email)} reads email), empty where the key has no expression: an UPDATE that sets one may
 * move the row to another partition as a plain key column's would.
 */
public record Lineage(List<SqlName> parents, boolean partition, List<SqlName> partitionKey, List<SqlName> children,
                      boolean foreign, java.util.Set<SqlName> keyExpressionColumns) {

    public Lineage(List<SqlName> parents, boolean partition, List<SqlName> partitionKey, List<SqlName> children) {
        this(parents, partition, partitionKey, children, false);
    }

    public Lineage(List<SqlName> parents, boolean partition, List<SqlName> partitionKey, List<SqlName> children,
                   boolean foreign) {
        this(parents, partition, partitionKey, children, foreign, java.util.Set.of());
    }

    /**
     * The columns of {@code columns} that the key's expressions (as pg_get_expr prints them, or a schema
     * file writes them) name: a name of the expression that is no call, no cast's type and no field.
     */
    public static java.util.Set<SqlName> columnsIn(String expressions, java.util.Collection<SqlName> columns) {
        if (expressions == null || expressions.isBlank()) {
            return java.util.Set.of();
        }
        java.util.Set<SqlName> used = new java.util.LinkedHashSet<>();
        java.util.Set<String> names;
        try {
            names = new SqlExpression(expressions).namesUsed();
        } catch (dev.zdm.protocol.ZdmException unscannable) {
            // Text a request could not send (a backslash in a constant, ...): every column it mentions counts.
            for (SqlName column : columns) {
                if (java.util.regex.Pattern.compile("(?<![A-Za-z0-9_$])" + java.util.regex.Pattern.quote(column.value())
                        + "(?![A-Za-z0-9_$])").matcher(expressions).find()) {
                    used.add(column);
                }
            }
            return used;
        }
        for (SqlName column : columns) {
            if (names.contains(column.value())) {
                used.add(column);
            }
        }
        return used;
    }

    /** A table with no parent, no children, not partitioned: what every catalog answers by default. */
    public static final Lineage ORDINARY = new Lineage(List.of(), false, null, List.of());

    /** One order for children whatever catalog read them: by bare name, then schema (none first). */
    public static final Comparator<SqlName> ORDER = Comparator.comparing(SqlName::value)
            .thenComparing(SqlName::schema, Comparator.nullsFirst(Comparator.naturalOrder()));

    public Lineage {
        parents = List.copyOf(parents);
        // List.copyOf refuses nulls, and an expression in the key is one.
        partitionKey = partitionKey == null ? null : Collections.unmodifiableList(new ArrayList<>(partitionKey));
        List<SqlName> sorted = new ArrayList<>(children);
        sorted.sort(ORDER);
        children = List.copyOf(sorted);
        keyExpressionColumns = keyExpressionColumns == null ? java.util.Set.of()
                : java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(keyExpressionColumns));
        if (partition && parents.size() != 1) {
            throw new IllegalArgumentException("a partition has exactly one parent, not " + parents);
        }
    }

    /** A partitioned table (relkind 'p'): it has no rows of its own, only partitions. */
    public boolean partitioned() {
        return partitionKey != null;
    }

    /** The table this one is a partition of, or inherits from first; null for a table with no parent. */
    public SqlName parent() {
        return parents.isEmpty() ? null : parents.get(0);
    }

    /** A child by plain inheritance (INHERITS), not a partition. */
    public boolean inheritanceChild() {
        return !parents.isEmpty() && !partition;
    }

    /** Whether the partition key has an expression: no unique index can then be built on the table. */
    public boolean keyHasExpression() {
        return partitionKey != null && partitionKey.contains(null);
    }

    /** The same facts, of a foreign table. */
    public Lineage asForeign() {
        return new Lineage(parents, partition, partitionKey, children, true, keyExpressionColumns);
    }

    /** The same facts with these children: a file states each table's parent, the children follow from them. */
    public Lineage withChildren(List<SqlName> children) {
        return new Lineage(parents, partition, partitionKey, children, foreign, keyExpressionColumns);
    }
}
