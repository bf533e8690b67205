package dev.zdm.pg;

import java.util.Locale;

/**
 * A key value as text that reads back as the same value whatever the session's styles: a batch's
 * position is stored as this text and sent back, cast to the key's type, after a resend that may run
 * under other database defaults. Most types print the same under every setting zdm leaves to the
 * database; an interval does not: IntervalStyle is the database's (the users' interval constants are
 * read by it), and sql_standard prints -1 day -23 hours as '-1 23:00:00', which the other styles read as
 * -1 day +23 hours. So an interval is written as its three fields, each signed, which every style reads
 * alike (no sign is carried over to an unsigned field when every field has one).
 */
public final class KeyText {

    private KeyText() {
    }

    /** {@code expression} (of {@code type}, null where unknown) as such text, in SQL. */
    public static String of(String expression, DataType type) {
        if (type == null || !type.sql().toLowerCase(Locale.ROOT).startsWith("interval")) {
            return expression + "::text";
        }
        String e = "(" + expression + ")";
        String months = "(extract(year FROM " + e + ") * 12 + extract(month FROM " + e + "))::bigint";
        String days = "extract(day FROM " + e + ")::bigint";
        String micros = "(extract(hour FROM " + e + ") * 3600000000 + extract(minute FROM " + e + ") * 60000000"
                + " + extract(microseconds FROM " + e + "))::bigint";
        return "CASE WHEN " + e + " IS NOT NULL THEN " + signed(months) + " || ' mons ' || " + signed(days)
                + " || ' days ' || " + signed(micros) + " || ' microseconds' END";
    }

    private static String signed(String number) {
        return "(CASE WHEN " + number + " >= 0 THEN '+' ELSE '' END || " + number + "::text)";
    }
}
