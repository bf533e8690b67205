package dev.zdm.pg;

/** What a statement does to the table's rows, beyond its catalog entry. */
public enum TableWork {
    /** Catalog rows only: fast whatever the table's size. */
    CATALOG_ONLY(false, false),
    /** Reads every row once (VALIDATE CONSTRAINT, SET NOT NULL without a proof). */
    SCAN(true, false),
    /** CREATE INDEX: one pass over the heap, then a sort. */
    BUILD_INDEX(true, false),
    /**
     * CREATE INDEX CONCURRENTLY: two passes over the heap, and in between waits for every transaction
     * that holds a lock conflicting with SHARE and, at the end, for every older snapshot.
     */
    BUILD_INDEX_CONCURRENTLY(true, false),
    /** A new heap file: every row copied (pg_class.relfilenode changes). */
    REWRITE(true, true),
    /** UPDATEs of rows, batch after batch, each batch its own transaction. */
    UPDATE_ROWS(true, false);

    private final boolean touchesRows;
    private final boolean rewrites;

    TableWork(boolean touchesRows, boolean rewrites) {
        this.touchesRows = touchesRows;
        this.rewrites = rewrites;
    }

    public boolean touchesRows() {
        return touchesRows;
    }

    public boolean rewrites() {
        return rewrites;
    }
}
