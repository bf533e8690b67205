package dev.zdm.pg;

import dev.zdm.protocol.ZdmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * create_index on a partitioned table, the safe way: PostgreSQL refuses CREATE INDEX CONCURRENTLY on a
 * partitioned table (0A000), and a plain CREATE INDEX on it holds SHARE on every partition for the
 * whole build. Instead: {@code CREATE INDEX name ON ONLY parent} (a catalog entry, INVALID, SHARE on
 * the parent for an instant), then for each partition {@code CREATE INDEX CONCURRENTLY} (a
 * sub-partitioned one gets its own ON ONLY index, attached, and its partitions in turn) and
 * {@code ALTER INDEX parent_index ATTACH PARTITION partition_index}. When the last partition's index is
 * attached PostgreSQL marks the parent's index valid (indexcmds.c, validatePartitionedIndex, up the tree).
 *
 * <p>Each partition's index gets the name PostgreSQL's own recursion gives it (ChooseIndexName:
 * {@code <partition>_<columns>_idx}, free in the partition's schema and among the names this plan
 * chooses). An INVALID parent index of the name is a build an earlier run began: the plan continues it,
 * skipping each partition whose index is already attached.
 */
final class PartitionedIndex {

    private final ServerVersion version;
    private final CatalogView catalog;
    private final Planner planner;
    private final Set<SqlName> chosen = new HashSet<>();

    PartitionedIndex(ServerVersion version, CatalogView catalog, Planner planner) {
        this.version = version;
        this.catalog = catalog;
        this.planner = planner;
    }

    /**
     * What PostgreSQL refuses of any index on a partitioned table, before anything runs: an index at
     * all on 10 (11 brought them), and a unique one whose columns miss a partition key column of the
     * table or of any sub-partitioned partition, or whose key has an expression (0A000 on the server).
     */
    void check(Planner.IndexSpec spec) {
        if (version.major() < 11) {
            throw ZdmException.precondition("table " + spec.table() + " is partitioned, and PostgreSQL " + version.major()
                    + " cannot create an index on a partitioned table (11 can): create it on each partition");
        }
        if (spec.unique()) {
            checkUnique(spec.table(), spec);
        }
    }

    private void checkUnique(SqlName table, Planner.IndexSpec spec) {
        Lineage lineage = catalog.lineage(table);
        if (!lineage.partitioned()) {
            return;
        }
        if (lineage.keyHasExpression()) {
            throw ZdmException.precondition("a unique index cannot be built on " + table + ", whose partition key has an"
                    + " expression (PostgreSQL: unsupported UNIQUE constraint with partition key definition)");
        }
        for (SqlName column : lineage.partitionKey()) {
            if (!spec.columns().contains(column)) {
                throw ZdmException.precondition("a unique index on partitioned table " + table + " must include every"
                        + " partition key column, and " + column + " is not among " + names(spec.columns())
                        + " (PostgreSQL: unique constraint on partitioned table must include all partitioning columns)");
            }
        }
        for (SqlName child : lineage.children()) {
            checkUnique(child, spec);
        }
    }

    /** The steps; {@code index} is the parent's index, named in its table's schema; {@code existing} its state. */
    Plan plan(Planner.IndexSpec spec, SqlName index, Optional<CatalogView.IndexState> existing) {
        List<Step> steps = new ArrayList<>();
        if (existing.isEmpty()) {
            steps.add(onOnly(spec.table(), index, spec));
        } else {
            requireSameBuild(spec, index);
        }
        partitions(spec.table(), index, spec, steps);
        if (steps.isEmpty()) {
            // Every partition's index is attached, yet the parent's is INVALID: a partition without one
            // (a foreign table, or one attached since) that this plan cannot see.
            throw ZdmException.precondition("index " + spec.name() + " on " + spec.table() + " is INVALID with every"
                    + " partition's index attached; drop it (DROP INDEX " + index.quoted() + ") and send the request again");
        }
        return new Plan(spec.table(), steps);
    }

    /**
     * The INVALID parent index is continued only as the build it is: on this table, these columns in
     * this order, as unique or not. Another one under the name would get partitions' indexes built to
     * the request, which ATTACH then refuses (42P17), after every build ran.
     */
    private void requireSameBuild(Planner.IndexSpec spec, SqlName index) {
        Optional<SqlName> table = catalog.indexTable(index);
        Optional<List<SqlName>> columns = catalog.indexColumns(index);
        Optional<Boolean> unique = catalog.indexUnique(index);
        boolean other = table.filter(t -> !t.value().equals(spec.table().value())).isPresent()
                || columns.filter(c -> !c.equals(spec.columns())).isPresent()
                || unique.filter(u -> u != spec.unique()).isPresent();
        if (other) {
            throw ZdmException.exists("index " + spec.name() + " exists, INVALID: a build an earlier run began"
                    + table.map(t -> " on " + t).orElse("") + columns.map(c -> " " + listed(c)).orElse("")
                    + unique.map(u -> u ? ", unique" : "").orElse("") + ", not this one on " + spec.table() + " "
                    + listed(spec.columns()) + (spec.unique() ? ", unique" : "") + "; send that request again to"
                    + " finish it, or pick another name");
        }
    }

    private void partitions(SqlName table, SqlName index, Planner.IndexSpec spec, List<Step> steps) {
        for (SqlName partition : catalog.lineage(table).children()) {
            Optional<SqlName> attached = catalog.attachedIndex(index, partition);
            boolean subPartitioned = catalog.lineage(partition).partitioned();
            if (attached.isPresent() && !subPartitioned) {
                continue;
            }
            SqlName own = attached.orElseGet(() -> choose(partition, spec.columns()));
            if (attached.isEmpty()) {
                if (subPartitioned) {
                    // Attached before its partitions are built: a resent request finds it by the attachment.
                    steps.add(onOnly(partition, own, spec));
                } else {
                    steps.add(concurrently(partition, own, spec));
                }
                steps.add(attach(table, index, partition, own));
            }
            if (subPartitioned) {
                int before = steps.size();
                partitions(partition, own, spec, steps);
                if (steps.size() > before) {
                    completes(steps, table, index);
                }
            }
        }
    }

    /**
     * The last step under a sub-partitioned partition makes its index valid; being attached, that index
     * has validatePartitionedIndex look at the one above it, under ACCESS EXCLUSIVE on that index and on
     * its table (tablecmds.c): a holder of any lock on {@code table} stops that ATTACH.
     */
    private static void completes(List<Step> steps, SqlName table, SqlName index) {
        Statement last = (Statement) steps.get(steps.size() - 1);
        List<Statement.OtherLock> locks = new ArrayList<>(last.otherLocks());
        locks.add(new Statement.OtherLock(table, LockMode.ACCESS_EXCLUSIVE));
        locks.add(new Statement.OtherLock(index, LockMode.ACCESS_EXCLUSIVE));
        steps.set(steps.size() - 1, new Statement(last.table(), last.sql(), last.lock(), last.work(), last.transactional(),
                last.undoSql(), last.change(), locks));
    }

    private Statement onOnly(SqlName table, SqlName index, Planner.IndexSpec spec) {
        // A partitioned index cannot be dropped CONCURRENTLY; it has no storage, so the plain DROP is
        // catalog-only, and takes the partitions' indexes attached to it along.
        return new Statement(table, "CREATE " + (spec.unique() ? "UNIQUE " : "") + "INDEX " + index.unqualified().quoted()
                + " ON ONLY " + table.quoted() + " (" + columns(spec) + ")", LockMode.SHARE, TableWork.CATALOG_ONLY,
                true, "DROP INDEX IF EXISTS " + index.quoted(),
                new CatalogChange.CreateIndexOnOnly(index, spec.columns(), spec.unique()));
    }

    private static Statement concurrently(SqlName partition, SqlName index, Planner.IndexSpec spec) {
        return new Statement(partition, "CREATE " + (spec.unique() ? "UNIQUE " : "") + "INDEX CONCURRENTLY "
                + index.unqualified().quoted() + " ON " + partition.quoted() + " (" + columns(spec) + ")",
                LockMode.SHARE_UPDATE_EXCLUSIVE, TableWork.BUILD_INDEX_CONCURRENTLY, false,
                "DROP INDEX CONCURRENTLY IF EXISTS " + index.quoted(),
                new CatalogChange.CreateIndex(index, spec.columns(), spec.unique()));
    }

    /**
     * Checked on PostgreSQL 15 (pg_locks inside the ALTER's transaction): ACCESS SHARE on both tables,
     * SHARE UPDATE EXCLUSIVE on the parent's index, ACCESS EXCLUSIVE on the partition's. Every query
     * on the partition holds ACCESS SHARE on each of its indexes, so the last one waits for them as an
     * ACCESS EXCLUSIVE on the table would, for an instant: catalog rows only.
     */
    private static Statement attach(SqlName table, SqlName index, SqlName partition, SqlName own) {
        return new Statement(partition, "ALTER INDEX " + index.quoted() + " ATTACH PARTITION " + own.quoted(),
                LockMode.ACCESS_SHARE, TableWork.CATALOG_ONLY, true, null, new CatalogChange.AttachIndex(index, own),
                List.of(new Statement.OtherLock(table, LockMode.ACCESS_SHARE),
                        new Statement.OtherLock(index, LockMode.SHARE_UPDATE_EXCLUSIVE),
                        new Statement.OtherLock(own, LockMode.ACCESS_EXCLUSIVE)));
    }

    /**
     * What a plain CREATE INDEX on a partitioned table makes below it, in DefineIndex's order: for each
     * partition an index that matches and is attached to no other is adopted ({@code adoptable}), else one is
     * made under the name ChooseIndexName gives it (a sub-partitioned partition's recursing in turn), and
     * attached. Each change is for the table it names; applied in order they leave every index valid.
     */
    List<Planner.Cascaded> cascade(SqlName table, SqlName index, List<SqlName> columns, boolean unique,
                                   java.util.function.Function<SqlName, Optional<SqlName>> adoptable) {
        List<Planner.Cascaded> changes = new ArrayList<>();
        for (SqlName partition : catalog.lineage(table).children()) {
            boolean subPartitioned = catalog.lineage(partition).partitioned();
            Optional<SqlName> adopted = adoptable.apply(partition);
            SqlName own = adopted.orElseGet(() -> choose(partition, columns));
            if (adopted.isEmpty()) {
                changes.add(new Planner.Cascaded(partition, subPartitioned
                        ? new CatalogChange.CreateIndexOnOnly(own, columns, unique)
                        : new CatalogChange.CreateIndex(own, columns, unique)));
            }
            changes.add(new Planner.Cascaded(partition, new CatalogChange.AttachIndex(index, own)));
            if (subPartitioned && adopted.isEmpty()) {
                changes.addAll(cascade(partition, own, columns, unique, adoptable));
            }
        }
        return changes;
    }

    /** ChooseIndexName for a plain index: ChooseRelationName(table, columns joined by "_", "idx"). */
    private SqlName choose(SqlName partition, List<SqlName> columns) {
        SqlName name = planner.chooseRelationName(partition, partition.value(),
                columns.stream().map(SqlName::value).collect(Collectors.joining("_")), "idx", chosen);
        chosen.add(name);
        return name;
    }

    private static String columns(Planner.IndexSpec spec) {
        return spec.columns().stream().map(SqlName::quoted).collect(Collectors.joining(", "));
    }

    /** The columns as the message names them; an expression's place (null) as "expression". */
    private static String listed(List<SqlName> columns) {
        return "(" + columns.stream().map(c -> c == null ? "expression" : c.value()).collect(Collectors.joining(", ")) + ")";
    }

    private static String names(List<SqlName> columns) {
        return "(" + columns.stream().map(SqlName::value).collect(Collectors.joining(", ")) + ")";
    }
}
