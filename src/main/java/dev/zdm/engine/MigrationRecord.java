package dev.zdm.engine;

import java.util.List;

/**
 * A migration as the engine keeps it: its operations (request bodies as JSON, without msg_id) and
 * each one's checksum, how far it got ({@code outcomes}: the reply body of each operation applied, in
 * order, as JSON), and the failed operation's error reply while it is stopped there. Times are
 * ISO-8601 UTC on a real server, null on the simulator (its clock is not a date).
 */
public record MigrationRecord(String name, List<String> operations, List<String> checksums, State state,
                              List<String> outcomes, String failure, String startedAt, String updatedAt) {

    public enum State {
        RUNNING, DONE, FAILED;

        public String sql() {
            return name().toLowerCase();
        }

        public static State of(String sql) {
            return valueOf(sql.toUpperCase());
        }
    }

    public MigrationRecord {
        operations = List.copyOf(operations);
        checksums = List.copyOf(checksums);
        outcomes = List.copyOf(outcomes);
    }

    public int operationsDone() {
        return outcomes.size();
    }
}
