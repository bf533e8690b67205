package dev.zdm.simulator;

import dev.zdm.pg.LockMode;
import dev.zdm.pg.SqlName;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Table-level locks as PostgreSQL's lock manager grants them. A request is granted at once only if its
 * mode conflicts neither with a mode another holder has been granted nor with a request already
 * waiting (LockCheckConflicts looks at the wait mask too): so a queued ACCESS EXCLUSIVE makes every
 * later ACCESS SHARE wait behind it, the queue that turns a short DDL into an outage. A holder's own
 * locks never conflict with its new request. Released locks wake waiters in FIFO order.
 *
 * <p>Like the server's lock table, it holds only what is held or awaited: a queue goes when it empties,
 * and each holder knows its tables, so releasing costs what the holder has, not what the catalog has.
 */
public final class LockManager {

    public enum Result { GRANTED, WAITING }

    private record Lock(String holder, LockMode mode) {
    }

    private static final class Queue {
        final List<Lock> granted = new ArrayList<>();
        final List<Lock> waiting = new ArrayList<>();

        boolean isEmpty() {
            return granted.isEmpty() && waiting.isEmpty();
        }
    }

    private final Map<SqlName, Queue> tables = new HashMap<>();
    private final Map<String, Set<SqlName>> tablesOf = new HashMap<>();
    private final UnaryOperator<SqlName> key;

    public LockManager() {
        this(UnaryOperator.identity());
    }

    /**
     * {@code key}: the name a table's lock is held under, the one relation every spelling of it means
     * (a name qualified with the search_path's first schema is its bare name's table).
     */
    public LockManager(UnaryOperator<SqlName> key) {
        this.key = key;
    }

    public Result request(String holder, SqlName named, LockMode mode) {
        SqlName table = key.apply(named);
        Queue queue = tables.computeIfAbsent(table, t -> new Queue());
        tablesOf.computeIfAbsent(holder, h -> new LinkedHashSet<>()).add(table);
        Lock lock = new Lock(holder, mode);
        if (conflicts(lock, queue.granted) || conflicts(lock, queue.waiting)) {
            queue.waiting.add(lock);
            return Result.WAITING;
        }
        queue.granted.add(lock);
        return Result.GRANTED;
    }

    /** Gives up every lock the holder has or waits for (commit, rollback, or lock_timeout). */
    public void releaseAll(String holder) {
        Set<SqlName> held = tablesOf.remove(holder);
        if (held == null) {
            return;
        }
        for (SqlName table : held) {
            Queue queue = tables.get(table);
            queue.granted.removeIf(l -> l.holder.equals(holder));
            queue.waiting.removeIf(l -> l.holder.equals(holder));
            wake(queue);
            if (queue.isEmpty()) {
                tables.remove(table);
            }
        }
    }

    /** Withdraws a waiting request, as a statement cancelled by lock_timeout does; its grants stay. */
    public void cancelWaiting(String holder, SqlName named) {
        SqlName table = key.apply(named);
        Queue queue = tables.get(table);
        if (queue != null && queue.waiting.removeIf(l -> l.holder.equals(holder))) {
            wake(queue);
            if (queue.granted.stream().noneMatch(l -> l.holder.equals(holder))) {
                Set<SqlName> held = tablesOf.get(holder);
                if (held != null && held.remove(table) && held.isEmpty()) {
                    tablesOf.remove(holder);
                }
            }
            if (queue.isEmpty()) {
                tables.remove(table);
            }
        }
    }

    public boolean isGranted(String holder, SqlName named, LockMode mode) {
        SqlName table = key.apply(named);
        Queue queue = tables.get(table);
        return queue != null && queue.granted.contains(new Lock(holder, mode));
    }

    public boolean isWaiting(String holder, SqlName named) {
        SqlName table = key.apply(named);
        Queue queue = tables.get(table);
        return queue != null && queue.waiting.stream().anyMatch(l -> l.holder.equals(holder));
    }

    /**
     * Who stands in the way of {@code holder}'s waiting request: holders of conflicting granted locks
     * and conflicting requests queued ahead of it (pg_blocking_pids reports both).
     */
    public List<String> blockers(String holder, SqlName named) {
        SqlName table = key.apply(named);
        Queue queue = tables.get(table);
        if (queue == null) {
            return List.of();
        }
        Set<String> blockers = new LinkedHashSet<>();
        for (Lock mine : queue.waiting) {
            if (!mine.holder.equals(holder)) {
                continue;
            }
            for (Lock other : queue.granted) {
                if (!other.holder.equals(holder) && mine.mode.conflictsWith(other.mode)) {
                    blockers.add(other.holder);
                }
            }
            for (Lock ahead : queue.waiting) {
                if (ahead == mine) {
                    break;
                }
                if (!ahead.holder.equals(holder) && mine.mode.conflictsWith(ahead.mode)) {
                    blockers.add(ahead.holder);
                }
            }
        }
        return List.copyOf(blockers);
    }

    /** Holders granted a mode on the table that conflicts with {@code mode}, other than {@code except}. */
    public List<String> holdersConflictingWith(SqlName named, LockMode mode, String except) {
        SqlName table = key.apply(named);
        Queue queue = tables.get(table);
        if (queue == null) {
            return List.of();
        }
        return queue.granted.stream()
                .filter(l -> !l.holder.equals(except) && l.mode.conflictsWith(mode))
                .map(Lock::holder).distinct().toList();
    }

    /** Tables with a lock held or awaited: what the lock table holds now. */
    int tablesInUse() {
        return tables.size();
    }

    private static boolean conflicts(Lock lock, List<Lock> others) {
        for (Lock o : others) {
            if (!o.holder.equals(lock.holder) && lock.mode.conflictsWith(o.mode)) {
                return true;
            }
        }
        return false;
    }

    private static void wake(Queue queue) {
        List<Lock> stillWaiting = new ArrayList<>();
        for (Iterator<Lock> it = queue.waiting.iterator(); it.hasNext(); ) {
            Lock lock = it.next();
            if (!conflicts(lock, queue.granted) && !conflicts(lock, stillWaiting)) {
                queue.granted.add(lock);
            } else {
                stillWaiting.add(lock);
            }
        }
        queue.waiting.clear();
        queue.waiting.addAll(stillWaiting);
    }
}
