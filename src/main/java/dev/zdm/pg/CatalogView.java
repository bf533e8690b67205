package dev.zdm.pg;

import java.util.Optional;
import java.util.Set;

/** The schema facts the planner needs, answered by whichever engine is running. */
public interface CatalogView {

    enum IndexState { VALID, INVALID }

    boolean tableExists(SqlName table);

    Set<SqlName> columns(SqlName table);

    /** The index of that name in the table's schema, whatever table it is on. */
    Optional<IndexState> index(SqlName name);

    /** The table's primary key when it is a single column. */
    Optional<SqlName> singleColumnPrimaryKey(SqlName table);

    boolean hasRows(SqlName table);

    /** Whether the expression calls a volatile function, so that a DEFAULT of it rewrites. */
    boolean isVolatile(SqlExpression expression);
}
