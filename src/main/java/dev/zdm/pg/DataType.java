package dev.zdm.pg;

import dev.zdm.protocol.ZdmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A column type as a message names it, in the shapes PostgreSQL's grammar gives a type (gram.y,
 * Typename): a name (a word or a quoted identifier, optionally schema-qualified), for the SQL
 * standard's names the words that follow (double precision, character varying, timestamp with time
 * zone, interval day to second), one type modifier list of numbers where the grammar puts it
 * (varchar(20), numeric(10,2), timestamp(3) with time zone, interval day to second(3)) and array
 * suffixes ([], [3], ARRAY). Words are folded to lower case as the server folds them; a quoted name is
 * kept exactly. Nothing else reaches the ALTER TABLE.
 */
public record DataType(String sql) {

    /**
     * The words that may follow a type's first word in the SQL standard's multi-word type names.
     * Anything else after the first word would be a column constraint, not a type: "text unique"
     * builds an index under ACCESS EXCLUSIVE, "int references users" adds a foreign key.
     */
    private static final Set<String> LATER_WORDS = Set.of("precision", "varying", "character", "char", "with",
            "without", "time", "zone", "year", "month", "day", "hour", "minute", "second", "to");
    public static final DataType TEXT = new DataType("text");

    public DataType {
        if (sql == null) {
            throw ZdmException.malformed("not a column type: null");
        }
        parse(sql);
    }

    public static DataType of(String text) {
        if (text == null) {
            throw ZdmException.malformed("a column type is missing");
        }
        return new DataType(normalise(text));
    }

    /** The type's name without modifiers or array suffixes, words single-spaced: timestamp with time zone, "char", public.mood. */
    public String baseName() {
        return parse(sql).base;
    }

    /** The numbers of the type modifier (20 for varchar(20), 10 and 2 for numeric(10,2)); empty without one. */
    public List<Integer> modifiers() {
        return parse(sql).modifiers;
    }

    /** Whether the type is an array of its base type. */
    public boolean isArray() {
        return parse(sql).array;
    }

    /** The type's own name as pg_type.typname holds it: without schema or quotes (public."Mood" → Mood). */
    public String typeName() {
        Parsed p = parse(sql);
        return p.qualified || p.base.startsWith("\"") ? p.lastName : p.base;
    }

    /** Whether the name carries its schema (public.mood, pg_catalog.int4). */
    public boolean qualified() {
        return parse(sql).qualified;
    }

    /** Runs of white space become one space; ASCII letters outside quoted names are folded to lower case. */
    private static String normalise(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean quoted = false;
        boolean space = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (!quoted && Character.isWhitespace(c)) {
                space = out.length() > 0;
                continue;
            }
            if (space) {
                out.append(' ');
                space = false;
            }
            // The server folds only ASCII letters of an unquoted name (scansup.c, downcase_identifier).
            out.append(quoted || c < 'A' || c > 'Z' ? c : (char) (c + ('a' - 'A')));
        }
        return out.toString();
    }

    private record Parsed(String base, List<Integer> modifiers, boolean array, boolean qualified, String lastName) {
    }

    /** The type's parts, or error 12 naming why it is no type. */
    private static Parsed parse(String sql) {
        Lexer in = new Lexer(sql);
        List<String> words = new ArrayList<>();
        boolean quotedName = false;
        StringBuilder name = new StringBuilder();
        int parts = 0;
        String lastName;
        do {
            if (parts > 0) {
                name.append('.');
            }
            String part = in.quoted();
            if (part != null) {
                quotedName = true;
                name.append(part);
                lastName = part.substring(1, part.length() - 1).replace("\"\"", "\"");
            } else {
                String word = in.word();
                if (word == null) {
                    throw in.refuse("a type name is expected");
                }
                name.append(word);
                lastName = word;
            }
            parts++;
        } while (parts < 3 && in.take('.'));
        words.add(name.toString());
        List<Integer> modifiers = List.of();
        boolean standardName = parts == 1 && !quotedName;
        while (true) {
            if (modifiers.isEmpty() && in.peek('(')) {
                modifiers = in.modifiers();
                continue;
            }
            int at = in.pos;
            String word = standardName ? in.word() : null;
            if (word == null) {
                break;
            }
            if (!LATER_WORDS.contains(word)) {
                if (word.equals("array")) {
                    in.pos = at;
                    break;
                }
                throw ZdmException.malformed("not a column type: " + sql + " ('" + word + "' is no part of a type name)");
            }
            words.add(word);
        }
        // opt_array_bounds ([] or [n], repeated), or ARRAY once with an optional [n].
        boolean array = false;
        int at = in.pos;
        if ("array".equals(in.word())) {
            array = true;
            if (in.take('[')) {
                in.digits(false);
                in.expect(']');
            }
        } else {
            in.pos = at;
            while (in.take('[')) {
                in.digits(true);
                in.expect(']');
                array = true;
            }
        }
        in.space();
        if (in.pos != sql.length()) {
            throw in.refuse("'" + sql.substring(in.pos) + "' is no part of a type name");
        }
        return new Parsed(String.join(" ", words), modifiers, array, parts > 1, lastName);
    }

    /** Reads the type's text from left to right. */
    private static final class Lexer {
        private final String text;
        int pos;

        Lexer(String text) {
            this.text = text;
        }

        ZdmException refuse(String why) {
            return ZdmException.malformed("not a column type: " + text + " (" + why + ")");
        }

        void space() {
            while (pos < text.length() && text.charAt(pos) == ' ') {
                pos++;
            }
        }

        boolean peek(char c) {
            space();
            return pos < text.length() && text.charAt(pos) == c;
        }

        boolean take(char c) {
            if (peek(c)) {
                pos++;
                return true;
            }
            return false;
        }

        void expect(char c) {
            if (!take(c)) {
                throw refuse("'" + c + "' expected");
            }
        }

        /** An unquoted identifier as the lexer reads one, or null (position unchanged). */
        String word() {
            space();
            int start = pos;
            if (pos < text.length() && (Character.isLetter(text.charAt(pos)) || text.charAt(pos) == '_')) {
                pos++;
                while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_'
                        || text.charAt(pos) == '$')) {
                    pos++;
                }
                return text.substring(start, pos);
            }
            return null;
        }

        /** A quoted identifier, its quotes kept and a doubled quote in it, or null. */
        String quoted() {
            if (!peek('"')) {
                return null;
            }
            int start = pos;
            for (int j = pos + 1; j < text.length(); j++) {
                if (text.charAt(j) == '"') {
                    if (j + 1 < text.length() && text.charAt(j + 1) == '"') {
                        j++;
                        continue;
                    }
                    String inner = text.substring(start + 1, j).replace("\"\"", "\"");
                    if (!SqlName.valid(inner)) {
                        throw refuse("a quoted name of 1 to 63 bytes without NUL is expected");
                    }
                    pos = j + 1;
                    return text.substring(start, pos);
                }
            }
            throw refuse("unterminated quoted name");
        }

        Integer digits(boolean optional) {
            space();
            int start = pos;
            while (pos < text.length() && Character.isDigit(text.charAt(pos)) && pos - start < 9) {
                pos++;
            }
            if (start == pos) {
                if (optional) {
                    return null;
                }
                throw refuse("a number expected");
            }
            return Integer.parseInt(text.substring(start, pos));
        }

        List<Integer> modifiers() {
            expect('(');
            List<Integer> numbers = new ArrayList<>();
            do {
                numbers.add(digits(false));
            } while (take(','));
            expect(')');
            if (numbers.size() > 2) {
                throw refuse("at most two type modifiers");
            }
            return List.copyOf(numbers);
        }
    }

    /** For messages about the type, as it was written. */
    @Override
    public String toString() {
        return sql;
    }

    /**
     * The base name as the facts of a major name it: pg_catalog's own types without their schema, an
     * interval without its fields, national character as character.
     */
    public String lookupName() {
        String base = baseName();
        if (base.startsWith("pg_catalog.")) {
            base = base.substring("pg_catalog.".length());
        }
        if (base.startsWith("interval ")) {
            return "interval";
        }
        return base.startsWith("national ") ? base.substring("national ".length()) : base;
    }
}
