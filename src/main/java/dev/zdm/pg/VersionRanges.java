package dev.zdm.pg;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;

/** Sets of PostgreSQL majors written as ranges, {@code 10,12-18}: how the facts file says which versions have a fact. */
public final class VersionRanges {

    private VersionRanges() {
    }

    public static String format(SortedSet<Integer> majors) {
        List<String> parts = new ArrayList<>();
        Integer start = null;
        Integer previous = null;
        for (int m : majors) {
            if (previous != null && m == previous + 1) {
                previous = m;
                continue;
            }
            if (start != null) {
                parts.add(start.equals(previous) ? start.toString() : start + "-" + previous);
            }
            start = m;
            previous = m;
        }
        if (start != null) {
            parts.add(start.equals(previous) ? start.toString() : start + "-" + previous);
        }
        return String.join(",", parts);
    }

    public static boolean contains(String ranges, int major) {
        for (String part : ranges.split(",")) {
            int dash = part.indexOf('-');
            int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
            int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
            if (major >= from && major <= to) {
                return true;
            }
        }
        return false;
    }
}
