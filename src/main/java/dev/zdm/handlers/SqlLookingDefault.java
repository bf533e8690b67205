package dev.zdm.handlers;

import dev.zdm.pg.DataType;
import dev.zdm.protocol.ZdmException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rule that keeps {@code default} (a JSON value, stored as a constant) from being misread as SQL. A
 * string default is refused with error 12 when, trimmed, it
 * <ul>
 *   <li>starts with a name directly followed by {@code (}: a function call such as {@code now()},
 *       {@code gen_random_uuid()}, {@code nextval('s')}, {@code now() + interval '1 day'};</li>
 *   <li>is one of SQL's value keywords, in any case: CURRENT_DATE, CURRENT_TIME, CURRENT_TIMESTAMP,
 *       LOCALTIME, LOCALTIMESTAMP, CURRENT_USER, CURRENT_ROLE, SESSION_USER, USER, CURRENT_CATALOG,
 *       CURRENT_SCHEMA, NULL, DEFAULT;</li>
 *   <li>or, for a date or time column, one of the special inputs now, today, tomorrow, yesterday, which
 *       PostgreSQL reads once, when the column is added (or the table made), and freezes.</li>
 * </ul>
 * Stored as text each would be one frozen value where a value per row was meant, and nothing would say
 * so. The error points to {@code default_sql} (an expression evaluated per row), and to
 * {@code default_sql: "'now()'"} for the text itself.
 */
public final class SqlLookingDefault {

    private static final Pattern CALL = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?\\(.*",
            Pattern.DOTALL);
    private static final Set<String> KEYWORDS = Set.of("current_date", "current_time", "current_timestamp",
            "localtime", "localtimestamp", "current_user", "current_role", "session_user", "user",
            "current_catalog", "current_schema", "null", "default");
    private static final Set<String> FROZEN_INPUTS = Set.of("now", "today", "tomorrow", "yesterday");
    private static final Set<String> DATE_TIME_TYPES = Set.of("date", "time", "timetz", "timestamp", "timestamptz");

    private SqlLookingDefault() {
    }

    /** Error 12 if {@code text}, a string default for a column of {@code type}, reads as SQL. */
    public static void refuse(String text, DataType type) {
        String trimmed = text.strip();
        String word = trimmed.toLowerCase(Locale.ROOT);
        String why;
        if (CALL.matcher(trimmed).matches()) {
            why = "looks like a function call";
        } else if (KEYWORDS.contains(word)) {
            why = "is an SQL keyword";
        } else if (FROZEN_INPUTS.contains(word) && isDateTime(type)) {
            why = "is read once by PostgreSQL, when the column is added, and frozen";
        } else {
            return;
        }
        String quoted = "'" + text.replace("'", "''") + "'";
        throw ZdmException.malformed("default " + quotedJson(text) + " " + why + ", and default is a constant:"
                + " for an expression evaluated per row give default_sql instead (e.g. \"default_sql\": "
                + quotedJson(trimmed) + "); to store this text itself give \"default_sql\": " + quotedJson(quoted));
    }

    private static boolean isDateTime(DataType type) {
        String sql = type.sql();
        if (sql.contains("[")) {
            return false;
        }
        String first = sql.replaceAll("[ (].*", "");
        return DATE_TIME_TYPES.contains(first);
    }

    private static String quotedJson(String text) {
        String capped = dev.zdm.protocol.Text.capped(text);
        return "\"" + capped.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
