package dev.zdm.pg;

import dev.zdm.protocol.ZdmException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A column type as a message names it: a (possibly multi-word) type name with an optional type
 * modifier and array suffix, e.g. {@code text}, {@code varchar(20)}, {@code numeric(10,2)},
 * {@code timestamp with time zone}, {@code int[]}. Nothing else reaches the ALTER TABLE.
 */
public record DataType(String sql) {

    private static final Pattern TYPE = Pattern.compile(
            "[a-z_][a-z0-9_]*( [a-z_][a-z0-9_]*){0,3}( ?\\( ?\\d{1,4} ?(, ?\\d{1,4} ?)?\\))?(\\[\\])?");
    /**
     * The words that may follow a type's first word in the SQL standard's multi-word type names
     * (double precision, character varying, timestamp without time zone, interval day to second).
     * Anything else after the first word would be a column constraint, not a type: "text unique"
     * builds an index under ACCESS EXCLUSIVE, "int references users" adds a foreign key.
     */
    private static final Set<String> LATER_WORDS = Set.of("precision", "varying", "character", "char", "with",
            "without", "time", "zone", "year", "month", "day", "hour", "minute", "second", "to");
    public static final DataType TEXT = new DataType("text");

    public DataType {
        if (sql == null || !TYPE.matcher(sql).matches()) {
            throw ZdmException.malformed("not a column type: " + sql);
        }
        String[] words = sql.replaceAll("[(\\[].*", "").trim().split(" ");
        for (int i = 1; i < words.length; i++) {
            if (!LATER_WORDS.contains(words[i])) {
                throw ZdmException.malformed("not a column type: " + sql + " ('" + words[i]
                        + "' is no part of a type name)");
            }
        }
    }

    public static DataType of(String text) {
        if (text == null) {
            throw ZdmException.malformed("a column type is missing");
        }
        return new DataType(text.trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return sql;
    }
}
