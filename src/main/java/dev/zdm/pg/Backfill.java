package dev.zdm.pg;

import java.util.Map;

/**
 * UPDATE table SET assignments WHERE condition, in batches of {@code batchSize} rows along the
 * single-column primary key, each batch its own short transaction, at most {@code rowLimit} rows
 * (null: all that match), {@code sleepMs} between batches. {@code jobKey} names the job for its
 * checkpoint, so the same request resumes rather than repeats.
 */
public record Backfill(SqlName table, SqlName key, Map<SqlName, SqlExpression> assignments,
                       SqlExpression condition, int batchSize, Long rowLimit, long sleepMs, String jobKey)
        implements Step {

    public Backfill {
        assignments = Map.copyOf(assignments);
    }

    @Override
    public LockMode lock() {
        return LockMode.ROW_EXCLUSIVE;
    }

    @Override
    public TableWork work() {
        return TableWork.UPDATE_ROWS;
    }

    /** "col" = (expr), ... in a stable order. */
    public String setClause() {
        return assignments.entrySet().stream()
                .sorted(Map.Entry.comparingByKey((a, b) -> a.value().compareTo(b.value())))
                .map(e -> e.getKey().quoted() + " = " + e.getValue().sql())
                .reduce((a, b) -> a + ", " + b)
                .orElseThrow();
    }

    /** The WHERE clause's extra condition, or "true". */
    public String conditionSql() {
        return condition == null ? "true" : condition.sql();
    }

    /** One batch's statement as it runs after the first (see {@link #batchSql(boolean)}); explain shows it. */
    @Override
    public String sql() {
        return batchSql(false);
    }

    /**
     * One batch, its parameters the key after which it starts ({@code first}: at which, inclusive), the
     * job's end key, the batch's size and the start key again: the first CTE finds where the next
     * {@code LIMIT} matching keys end, the UPDATE works on that key range only, the outer SELECT answers
     * how many rows it updated and where the range ended (null: nothing left). The UPDATE names its rows
     * by a range of the key, not by a join, so the planner walks the primary key index and never
     * chooses a scan of the whole table, generic plan or not. It runs, and locks the table, even when
     * the range holds no row.
     */
    public String batchSql(boolean first) {
        String after = first ? " >= ?" : " > ?";
        String t = table.quoted();
        String k = key.quoted();
        String c = conditionSql();
        return "WITH zdm_range AS (SELECT max(zdm_key) AS zdm_end FROM (SELECT " + k + " AS zdm_key FROM " + t
                + " WHERE " + k + after + " AND " + k + " <= ? AND " + c + " ORDER BY " + k + " LIMIT ?) zdm_keys), "
                + "zdm_done AS (UPDATE " + t + " SET " + setClause() + " WHERE " + k + after + " AND " + k
                + " <= (SELECT zdm_end FROM zdm_range) AND " + c + " RETURNING 1) "
                + "SELECT count(*), (SELECT zdm_end FROM zdm_range) FROM zdm_done";
    }

    /**
     * The key of the first row a batch with the same first two parameters as {@link #batchSql} would
     * take: what an error names when that row alone is too slow.
     */
    public String nextKeySql(boolean first) {
        String after = first ? " >= ?" : " > ?";
        String k = key.quoted();
        return "SELECT " + k + " FROM " + table.quoted() + " WHERE " + k + after + " AND " + k + " <= ? AND "
                + conditionSql() + " ORDER BY " + k + " LIMIT 1";
    }
}
