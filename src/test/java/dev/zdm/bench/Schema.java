package dev.zdm.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The tables a run works on and which of their columns the operations touch: today's users table with
 * its point reads, updates and inserts, or the four tables of pgbench's TPC-B-like transaction
 * (pgbench_accounts, _tellers, _branches, _history; pgbench's scale: 100,000 accounts, 10 tellers and
 * one branch per unit), so that figures compare with what the PostgreSQL world measures.
 *
 * @param table       the table every operation changes
 * @param indexColumn what create_index indexes
 * @param dataColumn  what migrate_data increments by one (the application also writes it under TPC-B)
 */
enum Schema {
    USERS("users", "email", "n", "users (id bigserial primary key, email text, name text, n int)"),
    TPCB("pgbench_accounts", "bid", "abalance",
            "pgbench's: pgbench_accounts (aid int primary key, bid int, abalance int, filler char(84)), "
                    + "pgbench_tellers, pgbench_branches, pgbench_history");

    final String table;
    final String indexColumn;
    final String dataColumn;
    final String description;

    Schema(String table, String indexColumn, String dataColumn, String description) {
        this.table = table;
        this.indexColumn = indexColumn;
        this.dataColumn = dataColumn;
        this.description = description;
    }

    static Schema named(String name) {
        return switch (name) {
            case "users" -> USERS;
            case "tpcb" -> TPCB;
            default -> throw new IllegalArgumentException("bench.workload is users or tpcb, not " + name);
        };
    }

    /** pgbench's scale for {@code rows} accounts (at least 1). */
    static long scale(long rows) {
        return Math.max(1, rows / 100_000);
    }

    /** Creates and loads the tables with {@code rows} rows in the operations' table. */
    void create(Connection c, long rows) throws SQLException {
        if (this == USERS) {
            UsersTable.create(c, rows);
            return;
        }
        long scale = scale(rows);
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS pgbench_history, pgbench_tellers, pgbench_branches, pgbench_accounts");
            // pgbench -i's DDL (its fillfactor 100 and no foreign keys), autovacuum off as for users.
            s.execute("CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88))"
                    + " WITH (autovacuum_enabled = false)");
            s.execute("CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84))"
                    + " WITH (autovacuum_enabled = false)");
            s.execute("CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))"
                    + " WITH (autovacuum_enabled = false)");
            s.execute("CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))");
            s.execute("INSERT INTO pgbench_branches SELECT g, 0 FROM generate_series(1, " + scale + ") g");
            s.execute("INSERT INTO pgbench_tellers SELECT g, (g - 1) / 10 + 1, 0 FROM generate_series(1, " + 10 * scale + ") g");
            s.execute("INSERT INTO pgbench_accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, " + rows + ") g");
        }
    }

    /** The same starting point for every trial (see {@link UsersTable#settle}). */
    void settle(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("VACUUM (FULL, ANALYZE) " + table);
            if (this == TPCB) {
                s.execute("TRUNCATE pgbench_history");
                s.execute("VACUUM (FULL, ANALYZE) pgbench_tellers, pgbench_branches");
            }
            s.execute("CHECKPOINT");
        }
    }
}
