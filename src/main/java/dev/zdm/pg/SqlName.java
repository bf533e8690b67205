package dev.zdm.pg;

import dev.zdm.protocol.ZdmException;
import java.nio.charset.StandardCharsets;

/**
 * An SQL identifier taken from a message, exactly as PostgreSQL stores it: any case, any characters
 * but NUL, 1 to 63 bytes in UTF-8 (NAMEDATALEN - 1). It is always written quoted with {@code "}
 * doubled, so a keyword, a space or a quote is part of the name and nothing else gets through; no
 * case is folded, since a quoted name is taken as it is.
 *
 * <p>A table's name may carry the schema the request named ({@code schema}, null when none): it is
 * written {@code "schema"."name"}, and {@code s.t} is another table than {@code t}, which the
 * connection's search_path resolves. Columns and indexes never carry one.
 */
public record SqlName(String schema, String value) {

    public static final int MAX_LENGTH = 63;

    public SqlName {
        check(value);
        if (schema != null) {
            check(schema);
        }
    }

    public SqlName(String value) {
        this(null, value);
    }

    public static SqlName of(String text) {
        if (text == null) {
            throw ZdmException.malformed("a name is missing");
        }
        return new SqlName(text);
    }

    /** A table's name, in {@code schema} when one is given (null: as the search_path resolves it). */
    public static SqlName table(String schema, String name) {
        if (name == null) {
            throw ZdmException.malformed("a name is missing");
        }
        return new SqlName(schema, name);
    }

    private static void check(String text) {
        if (text == null || text.isEmpty()) {
            throw ZdmException.malformed("a name must not be empty");
        }
        if (text.indexOf('\u0000') >= 0) {
            throw ZdmException.malformed("a name cannot hold a NUL character");
        }
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (Character.isSurrogate(ch) && !(Character.isHighSurrogate(ch) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(++i)))) {
                throw ZdmException.malformed("a name must be valid Unicode (a lone surrogate)");
            }
        }
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_LENGTH) {
            throw ZdmException.malformed("a name is at most " + MAX_LENGTH + " bytes in UTF-8, not " + bytes + ": "
                    + text);
        }
    }

    /** Whether a name of this text would be accepted. */
    public static boolean valid(String text) {
        try {
            check(text);
            return true;
        } catch (ZdmException e) {
            return false;
        }
    }

    /** The longest start of {@code text} that fits in 63 bytes, cut between characters as PostgreSQL cuts (pg_mbcliplen). */
    public static String truncate(String text) {
        return clip(text, MAX_LENGTH);
    }

    /** The longest start of {@code text} of at most {@code bytes} bytes in UTF-8, whole characters only. */
    public static String clip(String text, int bytes) {
        int used = 0;
        int end = 0;
        while (end < text.length()) {
            int cp = text.codePointAt(end);
            int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (used + size > bytes) {
                break;
            }
            used += size;
            end += Character.charCount(cp);
        }
        return text.substring(0, end);
    }

    /** Bytes in UTF-8, the measure of PostgreSQL's limit. */
    public static int bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The name without its schema. */
    public SqlName unqualified() {
        return schema == null ? this : new SqlName(value);
    }

    /** Another name (an index, a sequence) in this table's schema, if the request named one. */
    public SqlName sibling(SqlName name) {
        return new SqlName(schema, name.value());
    }

    /** The name as it goes into SQL: quoted, a {@code "} doubled, with its schema when it has one. */
    public String quoted() {
        return schema == null ? quote(value) : quote(schema) + "." + quote(value);
    }

    private static String quote(String text) {
        return '"' + text.replace("\"", "\"\"") + '"';
    }

    @Override
    public String toString() {
        return schema == null ? value : schema + "." + value;
    }
}
