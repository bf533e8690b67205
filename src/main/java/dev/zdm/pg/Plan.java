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
}
