package dev.zdm.engine;

import java.util.List;
import java.util.Optional;

/**
 * Where an engine keeps its migrations: the PostgreSQL engine in the ledger (zdm.migrations), so a
 * migration resumes from any node after any crash; the simulator in memory, for the run.
 */
public interface Migrations {

    Optional<MigrationRecord> find(String name);

    /** Writes the record whole (a new one, or over the one of that name), at once. */
    void save(MigrationRecord record);

    /** Unfinished ones first, then the newest. */
    List<MigrationRecord> list();

    /**
     * Makes this node the migration's only runner until {@link #release}; another node running it is
     * error 14 naming that node's backend. The simulator runs one request at a time and needs none.
     */
    void claim(String name);

    void release(String name);

    /**
     * Whether the operation of that identity finished after the migration last moved on (started, or
     * recorded an operation's reply): a run that ended, or lost its connection, between an operation's
     * end and the record of its reply. The simulator's runs end with the process and leave no such gap.
     */
    boolean finishedSinceRecorded(Operation operation, String migrationName);

    /** The backend running the migration now, if one does. */
    Optional<Blocker> runner(String name);
}
