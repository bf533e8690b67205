package dev.zdm.pg;

import java.util.function.Predicate;

/**
 * The names PostgreSQL gives what it names itself (indexcmds.c ChooseRelationName, pg_constraint.c
 * ChooseConstraintName, both through makeObjectName): name1_name2_label, the longer of the two names
 * shortened first, a byte at a time, so the whole fits in 63 bytes, each then cut between characters
 * (pg_mbcliplen); and while that name is taken, label1, label2, ... zdm names every object it makes
 * itself so, so that no name it picks is taken by the time its statement runs.
 */
public final class ObjectNames {

    private ObjectNames() {
    }

    public static SqlName choose(String name1, String name2, String label, Predicate<SqlName> taken) {
        for (int pass = 0; ; pass++) {
            SqlName candidate = SqlName.of(make(name1, name2, pass == 0 ? label : label + pass));
            if (!taken.test(candidate)) {
                return candidate;
            }
        }
    }

    /** makeObjectName: checked on PostgreSQL 15, a 41- and a 31-character name give 29 + 29 characters and _seq. */
    static String make(String name1, String name2, String label) {
        int overhead = SqlName.bytes(label) + 1 + (name2 == null ? 0 : 1);
        int available = SqlName.MAX_LENGTH - overhead;
        int bytes1 = SqlName.bytes(name1);
        int bytes2 = name2 == null ? 0 : SqlName.bytes(name2);
        while (bytes1 + bytes2 > available) {
            if (bytes1 > bytes2) {
                bytes1--;
            } else {
                bytes2--;
            }
        }
        String part1 = SqlName.clip(name1, bytes1);
        return part1 + (name2 == null ? "" : "_" + SqlName.clip(name2, bytes2)) + "_" + label;
    }
}
