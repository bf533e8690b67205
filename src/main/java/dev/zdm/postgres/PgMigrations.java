package dev.zdm.postgres;

import dev.zdm.engine.Operation;

import dev.zdm.engine.Blocker;
import dev.zdm.engine.MigrationRecord;
import dev.zdm.engine.Migrations;
import dev.zdm.postgres.connect.AppSessions;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Fingerprint;
import dev.zdm.postgres.ledger.MigrationsTable;
import dev.zdm.postgres.ledger.OperationLock;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The PostgreSQL engine's migrations: rows of zdm.migrations, and one runner at a time by a session
 * advisory lock on the name, held on the engine's backend (the one its operations' locks are on), so
 * a crashed node's claim ends with its backend.
 */
final class PgMigrations implements Migrations {

    private final Backend backend;
    private final AppSessions sessions;

    /** How status reads the ledger: see {@link PostgresEngine#report}. */
    interface Reporter {
        <T> T report(String table, String doing, PostgresEngine.LedgerRead<T> read);
    }

    private final Reporter reporter;

    PgMigrations(Backend backend, AppSessions sessions, Reporter reporter) {
        this.backend = backend;
        this.sessions = sessions;
        this.reporter = reporter;
    }

    @Override
    public Optional<MigrationRecord> find(String name) {
        try {
            return MigrationsTable.find(backend.connection(), name);
        } catch (SQLException e) {
            throw failed(e, "reading migration " + name);
        }
    }

    @Override
    public void save(MigrationRecord record) {
        try {
            MigrationsTable.save(backend.connection(), record);
        } catch (SQLException e) {
            throw failed(e, "recording migration " + record.name());
        }
    }

    @Override
    public List<MigrationRecord> list() {
        return reporter.report("zdm.migrations", "listing the migrations", MigrationsTable::list);
    }

    @Override
    public void claim(String name) {
        try {
            if (!OperationLock.tryTake(backend.connection(), key(name))) {
                Optional<Blocker> runner = runner(name);
                throw new ZdmException(ErrorCode.ABORT, "migration " + name + " is being applied by "
                        + runner.map(Blocker::label).orElse("another zdm session") + "; nothing done",
                        Map.of("blocked_by", runner.stream().map(Blocker::asMap).toList()), null);
            }
        } catch (SQLException e) {
            throw failed(e, "claiming migration " + name);
        }
    }

    @Override
    public void release(String name) {
        try {
            OperationLock.release(backend.connection(), key(name));
        } catch (SQLException e) {
            // A lost connection released it with its backend.
            if (PgErrors.connectionLost(e)) {
                backend.discard();
            }
        }
    }

    @Override
    public boolean finishedSinceRecorded(Operation operation, String migrationName) {
        try {
            return MigrationsTable.finishedSinceRecorded(backend.connection(),
                    PostgresEngine.fingerprint(backend.connection(), operation).hex(), migrationName);
        } catch (SQLException e) {
            throw failed(e, "reading zdm.operations for migration " + migrationName);
        }
    }

    @Override
    public Optional<Blocker> runner(String name) {
        try {
            Optional<Integer> pid = OperationLock.holder(backend.connection(), key(name));
            if (pid.isEmpty()) {
                return Optional.empty();
            }
            return sessions.describe(backend.connection(), Set.of(pid.get())).stream().findFirst();
        } catch (SQLException e) {
            throw failed(e, "looking for the runner of migration " + name);
        }
    }

    /** Its own key space: an operation's identity never starts with "migration:". */
    private static long key(String name) {
        return Fingerprint.of("migration:" + name).lockKey();
    }

    private ZdmException failed(SQLException e, String doing) {
        if (PgErrors.connectionLost(e)) {
            backend.discard();
        }
        return PgErrors.toReply(e, doing);
    }
}
