package dev.zdm.bench;

/** The three things the application does; they are blocked by different locks, so they are kept apart. */
enum QueryKind {
    /** SELECT by primary key: blocked only by ACCESS EXCLUSIVE. */
    READ,
    /** UPDATE of one row by primary key: blocked by SHARE and stronger, and by a row lock on that row. */
    UPDATE,
    /** INSERT of a new row: blocked by SHARE and stronger. */
    INSERT,
    /**
     * pgbench's TPC-B-like transaction: update an account, read it back, update a teller and a branch,
     * insert a history row, commit. Blocked by SHARE and stronger on any of them and by a row lock on
     * its account, teller or branch.
     */
    TPCB
}
