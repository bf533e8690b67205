package dev.zdm.postgres.observe;

import dev.zdm.pg.LockMode;

/** pg_locks spellings to table lock modes; the other lock types (e.g. SIReadLock) are not table modes. */
public final class LockModes {

    private LockModes() {
    }

    public static LockMode fromPgLocks(String mode) {
        try {
            return LockMode.parse(mode);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public static LockMode stronger(LockMode a, LockMode b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return b.isStrongerThan(a) ? b : a;
    }

    public static boolean blocksApplication(LockMode mode) {
        return mode != null && (mode.blocksReads() || mode.blocksWrites());
    }
}
