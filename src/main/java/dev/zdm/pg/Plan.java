package dev.zdm.pg;

import java.util.List;

/** The statements one operation runs, in order, as PostgreSQL knowledge says they behave. */
public record Plan(SqlName table, List<Step> steps) {

    public Plan {
        steps = List.copyOf(steps);
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("a plan needs a step");
        }
    }

    public boolean predictsTableLocked() {
        return steps.stream().anyMatch(Step::locksTable);
    }

    public boolean predictsRewrite() {
        return steps.stream().anyMatch(s -> s.work().rewrites());
    }

    public LockMode strongestLock() {
        return steps.stream().map(Step::lock).max(Enum::compareTo).orElseThrow();
    }

    /** Whether the plan makes its table: before it runs there is none to look up, lock or key by OID. */
    public boolean createsTable() {
        return steps.get(0) instanceof Statement s && s.change() instanceof CatalogChange.CreateTable;
    }

    /**
     * Where the same request resumes when step {@code failed} loses its lock race, if what the steps
     * before it made is kept rather than undone: an add_column's safe way past its backfill. The column
     * is then live and filled, nullable, its default serving new rows: the state the resend would build
     * again, hours of batches on a big table, which a reader at the wrong moment could make fail forever.
     * So the column and its backfill stay and the resend goes on at the NOT NULL steps (the returned
     * index). Empty for any other plan or step (a bare ADD COLUMN that lost its lock is undone as ever).
     */
    public java.util.OptionalInt keptOnLockLoss(int failed) {
        if (!(steps.get(0) instanceof Statement s && s.change() instanceof CatalogChange.AddColumn)) {
            return java.util.OptionalInt.empty();
        }
        int lastFill = -1;
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i) instanceof Backfill) {
                lastFill = i;
            }
        }
        return lastFill < 0 || failed <= lastFill ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(lastFill + 1);
    }

    /**
     * The first step whose objects are undone when a run of this plan that began at step {@code resumedAt}
     * fails. A resumed add_column's column was made by an earlier request, which said it is kept (a 14
     * after the backfill) or left it live (a crash): the application may have written it since, so a
     * failure of this run undoes only what this run made. Any other run undoes all the operation made.
     */
    public int undoneFrom(int resumedAt) {
        return resumedAt > 0 && steps.get(0) instanceof Statement s && s.change() instanceof CatalogChange.AddColumn
                ? resumedAt : 0;
    }
}
