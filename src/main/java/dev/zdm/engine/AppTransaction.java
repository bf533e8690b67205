package dev.zdm.engine;

import dev.zdm.pg.LockMode;
import dev.zdm.pg.SqlName;

/**
 * An application transaction that holds {@code mode} on {@code table} (null mode: open, holding no
 * table lock) for {@code durationSeconds} (null: until closed), so a scenario can put a migration behind it.
 */
public record AppTransaction(String session, SqlName table, LockMode mode, Double durationSeconds) {
}
