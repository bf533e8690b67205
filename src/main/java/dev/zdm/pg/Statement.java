package dev.zdm.pg;

/**
 * One SQL statement and the catalog change it makes. {@code transactional} is false for statements
 * that cannot run inside a transaction block (CREATE/DROP INDEX CONCURRENTLY). {@code undoSql} takes
 * the statement back once it has committed, when a later step of the same plan aborts; null where
 * there is nothing to take back.
 */
public record Statement(SqlName table, String sql, LockMode lock, TableWork work, boolean transactional,
                        String undoSql, CatalogChange change) implements Step {
}
