package dev.zdm.simulator;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A date written with its day and month as numbers ('02/03/2024', '31-12-24') is read in the field order
 * of the database's DateStyle (DMY, MDY or YMD): 2 March or 3 February, or refused. Without a server the
 * simulator cannot know that order, so the reading is an assumption explain lists; --schema-from asks
 * the database, which reads it as psql on it would.
 */
final class DateOrderAssumption {

    /** A quoted literal opening with two numeric fields before a third, '-', '/' or '.' apart. */
    private static final Pattern ORDERED_DATE = Pattern.compile("'\\s*(\\d{1,2})([/.-])(\\d{1,2})\\2(\\d{1,4})\\b");

    private DateOrderAssumption() {
    }

    /** Adds the assumption for each such literal in {@code sql} (a default, a set value, a where). */
    static void of(String sql, Set<String> out) {
        if (sql == null) {
            return;
        }
        Matcher m = ORDERED_DATE.matcher(sql);
        while (m.find()) {
            String date = m.group(1) + m.group(2) + m.group(3) + m.group(2) + m.group(4);
            out.add("assumes the database reads the date " + date + " in the field order its DateStyle gives"
                    + " (DMY day first, MDY month first, YMD year first; the simulator has no server to ask:"
                    + " --schema-from reads it as the database does)");
        }
    }
}
