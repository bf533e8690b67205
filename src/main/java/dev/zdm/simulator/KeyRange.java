package dev.zdm.simulator;

import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a migrate_data {@code where} says about the primary key: {@code id <= 5000}, {@code id > 10},
 * {@code id BETWEEN 1 AND 100}, {@code 5 < id}, {@code id = 7}, joined by AND, as the closed range of keys
 * [low, high] they allow. {@code rest}: the where has other conditions too, which the model cannot
 * evaluate without the data. A where with OR, or none that is about the key, is no range at all.
 */
record KeyRange(long low, long high, boolean rest) {

    private static final Pattern TOKEN = Pattern.compile(
            "\\s*(\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_]*|-?\\d+|<=|>=|<>|!=|=|<|>|\\(|\\)|'[^']*'|\\S)");

    /** The keys of a table of {@code rows} rows, taken to be dense from 1 (a bigserial never deleted from). */
    long count(long rows) {
        return Math.max(0, Math.min(high, rows) - Math.max(low, 1) + 1);
    }

    /** The range the where allows; null when it says nothing the model can use about the key. */
    static KeyRange of(SqlExpression where, SqlName key) {
        if (where == null) {
            return null;
        }
        List<String> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(where.text());
        while (m.find()) {
            tokens.add(m.group(1));
        }
        // Parentheses only group here: without OR or a negated group, (a AND b) AND c is a AND b AND c.
        for (int i = 0; i < tokens.size(); i++) {
            if (tokens.get(i).equalsIgnoreCase("or")
                    || (tokens.get(i).equalsIgnoreCase("not") && i + 1 < tokens.size() && tokens.get(i + 1).equals("("))) {
                return null;
            }
        }
        List<String> flat = tokens.stream().filter(t -> !t.equals("(") && !t.equals(")")).toList();
        long low = Long.MIN_VALUE;
        long high = Long.MAX_VALUE;
        boolean rest = false;
        boolean aboutKey = false;
        int i = 0;
        while (i < flat.size()) {
            int end = i;
            // A conjunct runs to the next AND that is not BETWEEN's.
            boolean between = false;
            while (end < flat.size()) {
                String t = flat.get(end).toLowerCase(Locale.ROOT);
                if (t.equals("between")) {
                    between = true;
                } else if (t.equals("and")) {
                    if (!between) {
                        break;
                    }
                    between = false;
                }
                end++;
            }
            long[] bounds = bounds(flat.subList(i, end), key);
            if (bounds == null) {
                rest = true;
            } else {
                aboutKey = true;
                low = Math.max(low, bounds[0]);
                high = Math.min(high, bounds[1]);
            }
            i = end + 1;
        }
        return aboutKey ? new KeyRange(low, high, rest) : null;
    }

    /** [low, high] of one comparison of the key with a whole number, or null. */
    private static long[] bounds(List<String> c, SqlName key) {
        try {
            if (c.size() == 5 && isKey(c.get(0), key) && c.get(1).equalsIgnoreCase("between")
                    && c.get(3).equalsIgnoreCase("and")) {
                return new long[] {Long.parseLong(c.get(2)), Long.parseLong(c.get(4))};
            }
            if (c.size() != 3) {
                return null;
            }
            if (isKey(c.get(0), key)) {
                return compare(c.get(1), Long.parseLong(c.get(2)));
            }
            if (isKey(c.get(2), key)) {
                return compare(flip(c.get(1)), Long.parseLong(c.get(0)));
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return null;
    }

    private static long[] compare(String op, long n) {
        return switch (op) {
            // Saturating: id < -9223372036854775808 is empty, not a wrap to the largest key.
            case "<" -> n == Long.MIN_VALUE ? new long[] {1, 0} : new long[] {Long.MIN_VALUE, n - 1};
            case "<=" -> new long[] {Long.MIN_VALUE, n};
            case ">" -> n == Long.MAX_VALUE ? new long[] {1, 0} : new long[] {n + 1, Long.MAX_VALUE};
            case ">=" -> new long[] {n, Long.MAX_VALUE};
            case "=" -> new long[] {n, n};
            default -> null;
        };
    }

    private static String flip(String op) {
        return switch (op) {
            case "<" -> ">";
            case "<=" -> ">=";
            case ">" -> "<";
            case ">=" -> "<=";
            default -> op;
        };
    }

    private static boolean isKey(String token, SqlName key) {
        return token.equalsIgnoreCase(key.value()) || token.equals(key.quoted());
    }
}
