package dev.zdm.pg;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * PostgreSQL's eight table-level lock modes, weakest first, with the conflict table of the manual
 * (mvcc.sgml, "Table-Level Locks", table "Conflicting Lock Modes"). Each row below is transcribed
 * from that table rather than derived, so that a reader can hold one against the other.
 */
public enum LockMode {
    ACCESS_SHARE("ACCESS SHARE", "AccessShareLock"),
    ROW_SHARE("ROW SHARE", "RowShareLock"),
    ROW_EXCLUSIVE("ROW EXCLUSIVE", "RowExclusiveLock"),
    SHARE_UPDATE_EXCLUSIVE("SHARE UPDATE EXCLUSIVE", "ShareUpdateExclusiveLock"),
    SHARE("SHARE", "ShareLock"),
    SHARE_ROW_EXCLUSIVE("SHARE ROW EXCLUSIVE", "ShareRowExclusiveLock"),
    EXCLUSIVE("EXCLUSIVE", "ExclusiveLock"),
    ACCESS_EXCLUSIVE("ACCESS EXCLUSIVE", "AccessExclusiveLock");

    private final String sqlName;
    private final String pgLocksName;

    LockMode(String sqlName, String pgLocksName) {
        this.sqlName = sqlName;
        this.pgLocksName = pgLocksName;
    }

    /** As written in {@code LOCK TABLE ... IN <mode> MODE}. */
    public String sqlName() {
        return sqlName;
    }

    /** As shown in {@code pg_locks.mode}. */
    public String pgLocksName() {
        return pgLocksName;
    }

    public boolean conflictsWith(LockMode other) {
        return conflicts().contains(other);
    }

    /** The application's SELECTs take ACCESS SHARE: a mode that conflicts with it stops reads. */
    public boolean blocksReads() {
        return conflictsWith(ACCESS_SHARE);
    }

    /** The application's INSERT/UPDATE/DELETE take ROW EXCLUSIVE. */
    public boolean blocksWrites() {
        return conflictsWith(ROW_EXCLUSIVE);
    }

    public boolean isStrongerThan(LockMode other) {
        return ordinal() > other.ordinal();
    }

    private Set<LockMode> conflicts() {
        return switch (this) {
            case ACCESS_SHARE -> EnumSet.of(ACCESS_EXCLUSIVE);
            case ROW_SHARE -> EnumSet.of(EXCLUSIVE, ACCESS_EXCLUSIVE);
            case ROW_EXCLUSIVE -> EnumSet.of(SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE);
            case SHARE_UPDATE_EXCLUSIVE -> EnumSet.of(SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE,
                    EXCLUSIVE, ACCESS_EXCLUSIVE);
            case SHARE -> EnumSet.of(ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE,
                    ACCESS_EXCLUSIVE);
            case SHARE_ROW_EXCLUSIVE -> EnumSet.of(ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE,
                    SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE);
            case EXCLUSIVE -> EnumSet.of(ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE,
                    SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE);
            case ACCESS_EXCLUSIVE -> EnumSet.allOf(LockMode.class);
        };
    }

    /**
     * Accepts the SQL spelling ("ACCESS SHARE"), the pg_locks spelling ("AccessShareLock") and the
     * enum spelling ("access_share"), in any case.
     */
    public static LockMode parse(String text) {
        String wanted = normalize(text);
        for (LockMode mode : values()) {
            if (normalize(mode.sqlName).equals(wanted) || normalize(mode.pgLocksName).equals(wanted)
                    || normalize(mode.name()).equals(wanted)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("not a table lock mode: " + text);
    }

    private static String normalize(String text) {
        String squeezed = text.toLowerCase(Locale.ROOT).replaceAll("[\\s_]", "");
        return squeezed.endsWith("lock") ? squeezed.substring(0, squeezed.length() - 4) : squeezed;
    }

    @Override
    public String toString() {
        return sqlName;
    }
}
