package dev.zdm.pg;

import dev.zdm.protocol.ZdmException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A plain SQL identifier taken from a message: letters, digits and underscores, not starting with a
 * digit, at most 63 bytes (NAMEDATALEN - 1). It is folded to lower case, as PostgreSQL folds an
 * unquoted name, and always written quoted, so a keyword is harmless and nothing else gets through.
 */
public record SqlName(String value) {

    public static final int MAX_LENGTH = 63;
    private static final Pattern PLAIN = Pattern.compile("[a-z_][a-z0-9_]*");

    public SqlName {
        if (value == null || value.length() > MAX_LENGTH || !PLAIN.matcher(value).matches()) {
            throw ZdmException.malformed("not a plain SQL name: " + value);
        }
    }

    public static SqlName of(String text) {
        if (text == null) {
            throw ZdmException.malformed("a name is missing");
        }
        return new SqlName(text.toLowerCase(Locale.ROOT));
    }

    /** The name as it goes into SQL. */
    public String quoted() {
        return '"' + value + '"';
    }

    @Override
    public String toString() {
        return value;
    }
}
