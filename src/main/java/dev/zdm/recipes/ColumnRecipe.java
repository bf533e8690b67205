package dev.zdm.recipes;

import dev.zdm.pg.CatalogView;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Request;
import java.util.Set;

/**
 * A recipe whose request names one column of one table ({table, schema?, column}): what drop_default,
 * drop_not_null and set_not_null read alike, so each of them says only its plan and its reply.
 */
abstract class ColumnRecipe implements Recipe<ColumnRecipe.Column> {

    /** The table, as the connection resolves it, and the column the request names. */
    public record Column(SqlName table, SqlName column) {
    }

    @Override
    public final Set<String> fields() {
        return Set.of("table", "schema", "column");
    }

    @Override
    public final Column parse(Request request, CatalogView catalog) {
        return new Column(Alter.tableOf(request, catalog), SqlName.of(request.string("column")));
    }

    @Override
    public final SqlName table(Column spec) {
        return spec.table();
    }
}
