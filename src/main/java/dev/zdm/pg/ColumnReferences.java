package dev.zdm.pg;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * The columns an expression of the request reads (a migrate_data set or where, a CHECK): a name that
 * can only be a column of the table, and that the catalog knows is not one, is refused as the server
 * refuses the statement when it analyses it (42703), before anything runs.
 */
public final class ColumnReferences {

    private ColumnReferences() {
    }

    public static void require(ServerVersion version, CatalogView catalog, SqlName table, SqlExpression expression) {
        Predicate<String> known = name -> catalog.column(table,
                SqlName.of(name.toLowerCase(Locale.ROOT))) != CatalogView.Presence.ABSENT;
        for (String name : ExpressionRefusals.columnReferences(version, expression, known)) {
            // Unquoted, the server folds it to lower case.
            SqlName column = SqlName.of(name.toLowerCase(Locale.ROOT));
            if (SystemColumns.NAMES.contains(column.value()) || column.value().equals("oid")
                    || column.value().equals(table.value()) || name.equals(table.value())) {
                // A system column, or the table's name: the whole row (row_to_json(orders)).
                continue;
            }
            if (catalog.column(table, column) == CatalogView.Presence.ABSENT
                    && catalog.column(table, SqlName.of(name)) == CatalogView.Presence.ABSENT) {
                throw new ZdmException(ErrorCode.KEY_DOES_NOT_EXIST, "column " + column + " of " + table
                        + " does not exist (named in " + expression.text() + "; SQLSTATE 42703)");
            }
        }
    }
}
