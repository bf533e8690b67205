package dev.zdm.recipes;

import dev.zdm.pg.CatalogView;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Request;
import java.util.Set;

/**
 * A recipe that drops one named thing of one table, refusing what depends on it unless
 * {@code cascade} ({table, schema?, <field>, cascade = false}): what drop_column and drop_constraint
 * read alike, so each of them says only its checks, its plan and its reply.
 */
abstract class CascadingDrop implements Recipe<CascadingDrop.Spec> {

    /** The table, as the connection resolves it, and the name the request's field gives. */
    public record Spec(SqlName table, SqlName name, boolean cascade) {
    }

    private final String field;

    CascadingDrop(String field) {
        this.field = field;
    }

    @Override
    public final Set<String> fields() {
        return Set.of("table", "schema", field, "cascade");
    }

    @Override
    public final Spec parse(Request request, CatalogView catalog) {
        return new Spec(Alter.tableOf(request, catalog), SqlName.of(request.string(field)), request.bool("cascade", false));
    }

    @Override
    public final SqlName table(Spec spec) {
        return spec.table();
    }
}
