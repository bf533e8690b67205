package dev.zdm.pg;

import java.util.function.Predicate;

/**
 * The names PostgreSQL gives what it names itself (indexcmds.c ChooseRelationName, pg_constraint.c
 * ChooseConstraintName, both through makeObjectName): name1_name2_label, the longer of the two names
 * shortened first so the whole fits in 63 bytes, and while that name is taken, label1, label2, ...
 */
public final class ObjectNames {

    private ObjectNames() {
    }

    public static SqlName choose(String name1, String name2, String label, Predicate<SqlName> taken) {
        for (int pass = 0; ; pass++) {
            String modLabel = pass == 0 ? label : label + pass;
            int available = SqlName.MAX_LENGTH - 1 - (modLabel.length() + 1);
            int chars1 = name1.length();
            int chars2 = name2 == null ? 0 : name2.length();
            while (chars1 + chars2 > available) {
                if (chars1 > chars2) {
                    chars1--;
                } else {
                    chars2--;
                }
            }
            String name = name1.substring(0, chars1) + (name2 == null ? "" : "_" + name2.substring(0, chars2))
                    + "_" + modLabel;
            SqlName candidate = SqlName.of(name);
            if (!taken.test(candidate)) {
                return candidate;
            }
        }
    }
}
