package dev.zdm.recipes;

import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.TableWork;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.util.List;
import java.util.Set;

/**
 * drop_index {index, concurrently = true} → index_dropped {index, duration_seconds, table_locked}.
 * DROP INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE on the table (reads and writes go on), then
 * waits for every transaction using the table; the plain DROP INDEX takes ACCESS EXCLUSIVE for an
 * instant. An index that backs a constraint (a key) is refused: dropping it is drop_constraint.
 */
public final class DropIndex implements Recipe<DropIndex.Spec> {

    public record Spec(SqlName index, SqlName table, boolean concurrently) {
    }

    @Override
    public String type() {
        return "drop_index";
    }

    @Override
    public Set<String> fields() {
        return Set.of("index", "schema", "concurrently");
    }

    @Override
    public Spec parse(Request request, CatalogView catalog) {
        // An index lives in its table's schema: the request's schema, else where the search_path finds it.
        SqlName index = SqlName.table(request.has("schema") ? request.string("schema") : null, request.string("index"));
        boolean concurrently = request.bool("concurrently", true);
        SqlName table = catalog.indexTable(index).orElseThrow(() -> ZdmException.missing("index " + index));
        return new Spec(index, table, concurrently);
    }

    @Override
    public SqlName table(Spec spec) {
        return spec.table();
    }

    @Override
    public Plan plan(Spec spec, ServerVersion version, CatalogView catalog) {
        if (catalog.index(spec.index()).isEmpty()) {
            throw ZdmException.missing("index " + spec.index());
        }
        catalog.constraints(spec.table()).stream().filter(c -> spec.index().equals(c.index())).findFirst().ifPresent(c -> {
            throw ZdmException.precondition("index " + spec.index() + " backs the " + c.kind() + " constraint " + c.name()
                    + " of " + spec.table() + ": drop the constraint (drop_constraint) to drop its index");
        });
        catalog.parentIndex(spec.index()).ifPresent(parent -> {
            // RemoveRelations → findDependentObjects: 2BP01 "cannot drop index ... because index ... requires it".
            throw ZdmException.precondition("index " + spec.index() + " of partition " + spec.table()
                    + " is attached to the partitioned index " + parent + ": PostgreSQL drops it only with that one;"
                    + " drop_index " + parent + " drops it and every partition's index with it");
        });
        if (partitioned(spec, catalog)) {
            // DROP INDEX CONCURRENTLY refuses a partitioned index (0A000): the plain DROP takes ACCESS
            // EXCLUSIVE on the table and every partition for an instant (pg_locks on 15), under the budget.
            return new Plan(spec.table(), List.of(new Statement(spec.table(), "DROP INDEX " + spec.index().quoted(),
                    LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, null,
                    new CatalogChange.RemoveIndex(spec.index()),
                    Planner.treeLocks(catalog, spec.table(), LockMode.ACCESS_EXCLUSIVE))));
        }
        String sql = "DROP INDEX " + (spec.concurrently() ? "CONCURRENTLY " : "") + spec.index().quoted();
        return new Plan(spec.table(), List.of(new Statement(spec.table(), sql,
                spec.concurrently() ? LockMode.SHARE_UPDATE_EXCLUSIVE : LockMode.ACCESS_EXCLUSIVE,
                TableWork.CATALOG_ONLY, !spec.concurrently(), null, new CatalogChange.RemoveIndex(spec.index()))));
    }

    /** An index on a partitioned table is itself partitioned (relkind 'I'), ON ONLY or not. */
    private static boolean partitioned(Spec spec, CatalogView catalog) {
        return catalog.lineage(spec.table()).partitioned();
    }

    @Override
    public List<String> notes(Spec spec, ServerVersion version, CatalogView catalog) {
        if (!partitioned(spec, catalog)) {
            return List.of();
        }
        return List.of("PostgreSQL cannot drop a partitioned index concurrently: DROP INDEX takes ACCESS EXCLUSIVE on "
                + spec.table() + " and every partition for an instant (reads and writes wait behind it), within"
                + " max_lock_duration_ms; the partitions' indexes go with it");
    }

    @Override
    public Reply reply(Request request, Spec spec, Outcome outcome) {
        return Reply.to(request, "index_dropped")
                .put("index", spec.index().value())
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked());
    }
}
