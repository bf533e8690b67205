package dev.zdm.engine;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A transaction that held a lock a migration needed when its budget ran out, as both engines report
 * it in an error 14's {@code blocked_by}: the session name where zdm opened it ({@code open_transaction}),
 * null for anybody else's backend; pid, application_name and state as pg_stat_activity has them; how
 * long its transaction had been open. The simulator models pids and ages; the PostgreSQL engine reads them.
 * An age (and a state) zdm could not read is null, never 0: pg_stat_activity hides both for another role's
 * backend unless zdm's role has pg_monitor or pg_read_all_stats, and a backend that has ended has none.
 */
public record Blocker(String session, int pid, String applicationName, String state, Long transactionAgeMs) {

    /** Oldest transaction first (unknown ages last), then by pid: the order in which both engines list blockers. */
    public static final Comparator<Blocker> OLDEST_FIRST = Comparator.comparing(Blocker::transactionAgeMs,
            Comparator.nullsFirst(Comparator.<Long>naturalOrder())).reversed().thenComparingInt(Blocker::pid);

    /** The reply's object: session first where zdm opened it, so a reader sees the name it chose. */
    public Map<String, Object> asMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        if (session != null) {
            map.put("session", session);
        }
        map.put("pid", pid);
        map.put("application_name", applicationName);
        map.put("state", state);
        map.put("transaction_age_ms", transactionAgeMs);
        return map;
    }

    /** For the error's text: the session name, or the backend's pid and application name. */
    public String label() {
        return session != null ? session
                : "pid " + pid + (applicationName == null || applicationName.isEmpty() ? "" : " (" + applicationName + ")");
    }

    public static List<Blocker> ordered(List<Blocker> blockers) {
        return blockers.stream().sorted(OLDEST_FIRST).toList();
    }
}
