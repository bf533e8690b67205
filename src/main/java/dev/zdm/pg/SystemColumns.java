package dev.zdm.pg;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.util.Set;

/**
 * The names every table's system columns take (ctid, xmin, ...): no user column may have one, in
 * CREATE TABLE or ADD COLUMN alike (SQLSTATE 42701, duplicate_column; oid is one only before 12, on a
 * table WITH OIDS, which zdm never makes).
 */
public final class SystemColumns {

    public static final Set<String> NAMES = Set.of("ctid", "xmin", "cmin", "xmax", "cmax", "tableoid");

    private SystemColumns() {
    }

    public static void require(SqlName column) {
        if (NAMES.contains(column.value())) {
            throw new ZdmException(ErrorCode.KEY_ALREADY_EXISTS, "column name \"" + column.value()
                    + "\" conflicts with a system column name (SQLSTATE 42701)");
        }
    }
}
