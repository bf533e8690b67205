package dev.zdm.pg;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * UPDATE table SET assignments WHERE condition, in batches of {@code batchSize} rows along the table's
 * {@link KeyWalk}, each batch its own short transaction, at most {@code rowLimit} rows (null: all that
 * match), {@code sleepMs} between batches. {@code jobKey} names the job for its checkpoint, so the same
 * request resumes rather than repeats. {@code fillsNulls}: the job only sets NULLs of the column it fills
 * (add_column's safe way), so running a batch twice is harmless. {@code otherLocks}: what each batch
 * also locks on other tables (see {@link Planner}: a foreign key's referenced or referencing table).
 * {@code only}: the table's own rows, not its inheritance children's (UPDATE ONLY): a parent's children
 * are jobs of their own, each along its own key.
 */
public record Backfill(SqlName table, KeyWalk walk, Map<SqlName, SqlExpression> assignments,
                       SqlExpression condition, int batchSize, Long rowLimit, long sleepMs, String jobKey,
                       boolean fillsNulls, List<Statement.OtherLock> otherLocks, boolean only)
        implements Step {

    public Backfill {
        assignments = Map.copyOf(assignments);
        otherLocks = List.copyOf(otherLocks);
    }

    /** A job that locks its own table only. */
    public Backfill(SqlName table, KeyWalk walk, Map<SqlName, SqlExpression> assignments, SqlExpression condition,
                    int batchSize, Long rowLimit, long sleepMs, String jobKey, boolean fillsNulls) {
        this(table, walk, assignments, condition, batchSize, rowLimit, sleepMs, jobKey, fillsNulls, List.of(), false);
    }

    /** The table as its statements name it: {@code ONLY "t"} for a job of the table's own rows alone. */
    public String target() {
        return only ? "ONLY " + table.quoted() : table.quoted();
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

    /** One batch's statement as it runs after the first; explain shows it. */
    @Override
    public String sql() {
        return walk.sql(this);
    }

    /** The key when it is a single integer column: what a where's key range (id <= 5000) can be read against. */
    public Optional<SqlName> integerKey() {
        return walk instanceof KeyWalk.Keyset k && k.integerKey()
                ? Optional.of(k.columns().get(0).name()) : Optional.empty();
    }

}
