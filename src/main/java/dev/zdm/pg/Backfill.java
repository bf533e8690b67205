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

    @Override
    public String sql() {
        return "UPDATE " + table.quoted() + " SET " + setClause() + " WHERE " + key.quoted()
                + " IN (SELECT " + key.quoted() + " FROM " + table.quoted() + " WHERE " + key.quoted()
                + " > $last AND " + conditionSql() + " ORDER BY " + key.quoted() + " LIMIT " + batchSize + ")";
    }
}
