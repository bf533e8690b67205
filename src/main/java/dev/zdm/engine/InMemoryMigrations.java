package dev.zdm.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The simulator's migrations: remembered for the run, in the order they were first sent. */
public final class InMemoryMigrations implements Migrations {

    private final Map<String, MigrationRecord> byName = new LinkedHashMap<>();

    @Override
    public Optional<MigrationRecord> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    @Override
    public void save(MigrationRecord record) {
        byName.put(record.name(), record);
    }

    @Override
    public List<MigrationRecord> list() {
        List<MigrationRecord> all = new ArrayList<>(byName.values());
        Collections.reverse(all);
        all.sort(Comparator.comparing(r -> r.state() == MigrationRecord.State.DONE));
        return all;
    }

    @Override
    public void claim(String name) {
    }

    @Override
    public void release(String name) {
    }

    @Override
    public boolean finishedSinceRecorded(Operation operation, String migrationName) {
        return false;
    }

    @Override
    public Optional<Blocker> runner(String name) {
        return Optional.empty();
    }
}
