package dev.zdm.pg;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Whether a constant fits the column type it is the default of, decided as the type's input function
 * and typmod coercion decide when ALTER TABLE analyses the default (before any row): lengths of
 * varchar and char (22001), numeric precision and scale and integer ranges (22003), the syntax of
 * integers, numerics, booleans and array braces (22P02), and a JSON number or boolean where no cast
 * reaches the type (42804). Where only the type's own input function can tell (inet, uuid, an enum,
 * a domain, an array's elements), it says it does not know.
 */
public final class ConstantFit {

    private static final Pattern ARRAY_DIMENSIONS = Pattern.compile(
            "(\\[\\s*[+-]?\\d+\\s*(:\\s*[+-]?\\d+\\s*)?\\])+\\s*=.*", Pattern.DOTALL);
    private static final Pattern DECIMAL_INTEGER = Pattern.compile("[+-]?\\d+");
    private static final Pattern JSON_NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?");

    private ConstantFit() {
    }

    /**
     * Refuses the constant (as {@code sql}: a quoted literal, or a bare number or boolean) the way the
     * server would, or answers whether it fits ({@code true}) or only the server can tell ({@code false}).
     */
    public static boolean check(ServerVersion version, DataType type, String sql) {
        String text = SqlLiteral.valueOf(sql);
        boolean quoted = text != null;
        boolean bareBoolean = !quoted && ("true".equals(sql) || "false".equals(sql));
        boolean bareNumber = !quoted && JSON_NUMBER.matcher(sql).matches();
        if (!quoted && !bareBoolean && !bareNumber) {
            return false;
        }
        if (!quoted) {
            text = sql;
        }
        String name = canonical(version, type);
        if (type.isArray()) {
            if (!quoted) {
                return false;
            }
            requireArrayBraces(text);
            return false;
        }
        List<Integer> mods = type.modifiers();
        switch (name) {
            case "smallint", "integer", "bigint" -> {
                if (bareBoolean) {
                    throw mismatch(type, "boolean");
                }
                return integer(version, name, text, quoted);
            }
            case "numeric" -> {
                if (bareBoolean) {
                    throw mismatch(type, "boolean");
                }
                return numeric(version, type, text, mods);
            }
            case "boolean" -> {
                if (bareNumber) {
                    throw mismatch(type, DECIMAL_INTEGER.matcher(text).matches() ? "integer" : "numeric");
                }
                return !quoted || bool(text);
            }
            case "character varying", "character", "bpchar" -> {
                if (bareNumber && (text.contains("e") || text.contains("E"))) {
                    // numeric's output (10000000000), not the JSON text (1.0E10), is what gets cut.
                    return false;
                }
                int limit = mods.isEmpty() ? (name.equals("character") ? 1 : -1) : mods.get(0);
                if (limit >= 0 && tooLong(text, limit)) {
                    throw refused("22001", "value too long for type " + (name.equals("bpchar") ? "character" : name)
                            + "(" + limit + ")");
                }
                return true;
            }
            case "text" -> {
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** The type's name as format_type prints it; an unquoted char is character (the SQL standard's), "char" another type. */
    private static String canonical(ServerVersion version, DataType type) {
        String base = type.lookupName();
        if (base.equals("char") || base.equals("nchar")) {
            return "character";
        }
        if (base.equals("bpchar")) {
            return "bpchar";
        }
        return PgFacts.of(version).canonicalType(base).orElse(base);
    }

    private static boolean integer(ServerVersion version, String name, String text, boolean quoted) {
        BigInteger value;
        if (quoted) {
            String trimmed = text.strip();
            if (!DECIMAL_INTEGER.matcher(trimmed).matches()) {
                // From 16 on integers may be written 0x1F, 0o17, 0b101, 1_000: the server decides those.
                if (version.major() >= 16 && trimmed.matches("[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\\d[\\d_]*)")) {
                    return false;
                }
                throw refused("22P02", "invalid input syntax for type " + name + ": \"" + text + "\"");
            }
            value = new BigInteger(trimmed.startsWith("+") ? trimmed.substring(1) : trimmed);
            if (!inRange(name, value)) {
                throw refused("22003", "value \"" + text + "\" is out of range for type " + name);
            }
            return true;
        }
        // A numeric constant is rounded half away from zero by the assignment cast, then range-checked.
        value = new BigDecimal(text).setScale(0, RoundingMode.HALF_UP).toBigInteger();
        if (!inRange(name, value)) {
            throw refused("22003", name + " out of range");
        }
        return true;
    }

    private static boolean inRange(String name, BigInteger value) {
        int bits = switch (name) {
            case "smallint" -> 16;
            case "integer" -> 32;
            default -> 64;
        };
        BigInteger max = BigInteger.ONE.shiftLeft(bits - 1);
        return value.compareTo(max.negate()) >= 0 && value.compareTo(max) < 0;
    }

    private static boolean numeric(ServerVersion version, DataType type, String text, List<Integer> mods) {
        String trimmed = text.strip();
        String word = trimmed.toLowerCase(Locale.ROOT);
        if (word.equals("nan")) {
            return true;
        }
        if (word.matches("[+-]?(inf|infinity)")) {
            if (mods.isEmpty()) {
                // Accepted from 14 on, refused (22P02) before: only the version's input function says.
                return false;
            }
            throw refused("22003", "numeric field overflow");
        }
        BigDecimal value;
        try {
            value = new BigDecimal(trimmed);
        } catch (NumberFormatException e) {
            if (version.major() >= 16 && trimmed.matches("[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[\\d.][\\d_.]*([eE][+-]?[\\d_]+)?)")) {
                return false;
            }
            throw refused("22P02", "invalid input syntax for type numeric: \"" + text + "\"");
        }
        if (mods.isEmpty()) {
            return true;
        }
        int precision = mods.get(0);
        int scale = mods.size() > 1 ? mods.get(1) : 0;
        BigDecimal rounded = value.setScale(scale, RoundingMode.HALF_UP);
        if (rounded.signum() != 0 && rounded.precision() - rounded.scale() > precision - scale) {
            throw refused("22003", "numeric field overflow (a field with precision " + precision + ", scale " + scale
                    + " must round to an absolute value less than 10^" + (precision - scale) + ")");
        }
        return true;
    }

    /** boolin (parse_bool_with_len): a prefix of true, false, yes, no; on, of, off; 1, 0; white space around. */
    private static boolean bool(String text) {
        String v = text.strip().toLowerCase(Locale.ROOT);
        boolean ok = !v.isEmpty() && ("true".startsWith(v) || "false".startsWith(v) || "yes".startsWith(v)
                || "no".startsWith(v) || v.equals("on") || v.equals("of") || v.equals("off") || v.equals("1")
                || v.equals("0"));
        if (!ok) {
            throw refused("22P02", "invalid input syntax for type boolean: \"" + text + "\"");
        }
        return true;
    }

    /** Longer than the limit in characters, unless what is over it is only spaces (which varchar and char cut silently). */
    private static boolean tooLong(String text, int limit) {
        int length = text.codePointCount(0, text.length());
        if (length <= limit) {
            return false;
        }
        String rest = text.substring(text.offsetByCodePoints(0, limit));
        return !rest.chars().allMatch(c -> c == ' ');
    }

    /** array_in: dimensions or '{' first, braces that close, nothing after the last. Elements are the element type's. */
    private static void requireArrayBraces(String text) {
        String s = text.stripLeading();
        String why = null;
        if (s.startsWith("[")) {
            if (!ARRAY_DIMENSIONS.matcher(s).matches()) {
                why = "bad array dimensions";
            } else {
                s = s.substring(s.indexOf('=') + 1).stripLeading();
            }
        }
        if (why == null && !s.startsWith("{")) {
            why = "Array value must start with \"{\" or dimension information.";
        }
        if (why == null) {
            int depth = 0;
            int end = -1;
            for (int i = 0; i < s.length() && end < 0; i++) {
                char c = s.charAt(i);
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    for (i++; i < s.length() && s.charAt(i) != '"'; i++) {
                        if (s.charAt(i) == '\\') {
                            i++;
                        }
                    }
                } else if (c == '{') {
                    depth++;
                } else if (c == '}' && --depth == 0) {
                    end = i;
                }
            }
            if (end < 0) {
                why = "Unexpected end of input.";
            } else if (!s.substring(end + 1).isBlank()) {
                why = "Junk after closing right brace.";
            }
        }
        if (why != null) {
            throw refused("22P02", "malformed array literal: \"" + text + "\" (" + why + ")");
        }
    }

    private static ZdmException refused(String sqlState, String message) {
        return new ZdmException(ErrorCode.PRECONDITION_FAILED, message + " (SQLSTATE " + sqlState
                + ": PostgreSQL refuses this default as it analyses the statement, before any row)");
    }

    private static ZdmException mismatch(DataType type, String given) {
        return new ZdmException(ErrorCode.MALFORMED_REQUEST, "the column is of type " + type + " but the default is of"
                + " type " + given + " (SQLSTATE 42804: no cast takes it there; quote it as a string)");
    }
}
