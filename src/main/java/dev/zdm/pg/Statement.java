package dev.zdm.pg;

import java.util.List;

/**
 * One SQL statement and the catalog change it makes. {@code transactional} is false for statements
 * that cannot run inside a transaction block (CREATE/DROP INDEX CONCURRENTLY). {@code undoSql} takes
 * the statement back once it has committed, when a later step of the same plan aborts; null where
 * there is nothing to take back. {@code otherLocks}: the locks it takes on relations other than its
 * table (a foreign key's referenced table), each waited for under the same budget.
 */
public record Statement(SqlName table, String sql, LockMode lock, TableWork work, boolean transactional,
                        String undoSql, CatalogChange change, List<OtherLock> otherLocks) implements Step {

    /** A lock the statement takes on another table than its own. */
    public record OtherLock(SqlName table, LockMode mode) {
    }

    public Statement {
        otherLocks = List.copyOf(otherLocks);
    }

    /** A statement that locks its own table only. */
    public Statement(SqlName table, String sql, LockMode lock, TableWork work, boolean transactional,
                     String undoSql, CatalogChange change) {
        this(table, sql, lock, work, transactional, undoSql, change, List.of());
    }
}
