package dev.zdm.pg;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * What one PostgreSQL major knows about functions and type names, as read from that server's own
 * catalogs (pg_proc, pg_type, pg_get_keywords()) by {@code dev.zdm.fidelity.FactsGenerator} into
 * {@value #RESOURCE}; nothing here is kept by hand. Loaded on first use, so a node that never
 * checks an expression never pays for it.
 *
 * <p>The resource is one line per fact, sorted, tab-separated: {@code kind, name, value, majors}, majors
 * being the versions that have it as ranges ({@code 16-18}), empty when all have it. Kinds:
 * {@code f} a function name and its strongest volatility over its overloads (v, s, i);
 * {@code t} a type name the parser accepts and the type it means (format_type);
 * {@code k} a keyword, which may stand before '(' without being a function (coalesce, cast, row);
 * {@code s} parser sugar for a column type (serial): the integer type it becomes, with a sequence,
 * a nextval() default and NOT NULL (parse_utilcmd.c, transformColumnDefinition).
 */
public final class PgFacts {

    public static final String RESOURCE = "/dev/zdm/pg/pg-facts.tsv.gz";

    public enum Volatility {
        IMMUTABLE, STABLE, VOLATILE;

        static Volatility of(char code) {
            return switch (code) {
                case 'i' -> IMMUTABLE;
                case 's' -> STABLE;
                case 'v' -> VOLATILE;
                default -> throw new IllegalArgumentException("no volatility " + code);
            };
        }
    }

    private static final Map<Integer, PgFacts> BY_MAJOR = new HashMap<>();

    private final int major;
    /**
     * The resource's lines as they are, sorted: looked up by binary search rather than parsed into
     * maps, because a cold JVM spends more on thousands of map entries than the node's whole first
     * reply can spare.
     */
    private final String[] lines;

    private PgFacts(int major, String[] lines) {
        this.major = major;
        this.lines = lines;
    }

    /**
     * The facts of that major; a major newer than the newest generated takes the newest (functions
     * are rarely removed), one older than the oldest the oldest.
     */
    public static synchronized PgFacts of(ServerVersion version) {
        // No lambda or stream on this path: their bootstrap would cost the node's first reply tens of ms.
        PgFacts facts = BY_MAJOR.get(version.major());
        if (facts == null) {
            facts = load(version.major());
            BY_MAJOR.put(version.major(), facts);
        }
        return facts;
    }

    public int major() {
        return major;
    }

    /** The function's strongest volatility over its overloads; empty when this major has no such function. */
    public Optional<Volatility> volatility(String function) {
        String code = find('f', function.toLowerCase(Locale.ROOT));
        return code == null ? Optional.empty() : Optional.of(Volatility.of(code.charAt(0)));
    }

    /**
     * Whether a DEFAULT of this expression is evaluated per row: a function in it is volatile. Names
     * this major does not know count as not volatile, as pg_proc answers for them on a server; the
     * server refuses them when the statement runs, see {@link #requireKnownFunctions}.
     */
    public boolean isVolatile(SqlExpression expression) {
        for (String name : expression.functionNames()) {
            String code = find('f', name);
            if (code != null && code.charAt(0) == 'v') {
                return true;
            }
        }
        return false;
    }

    /**
     * Refuses, as the server does when the statement runs, a name called as a function that this major
     * has neither as a function, a type (a cast such as numeric(10,2)) nor a keyword (coalesce, row):
     * undefined_function (42883), which the PostgreSQL engine answers as 12.
     */
    public void requireKnownFunctions(SqlExpression expression) {
        requireKnownFunctions(expression, name -> false);
    }

    /** The same, with the database's own functions ({@code userFunction}) known too. */
    public void requireKnownFunctions(SqlExpression expression, java.util.function.Predicate<String> userFunction) {
        for (String name : expression.functionNames()) {
            if (!callable(name) && !userFunction.test(name)) {
                throw new ZdmException(ErrorCode.MALFORMED_REQUEST, "function " + name
                        + "() does not exist in PostgreSQL " + major);
            }
        }
    }

    /**
     * Whether this major has a built-in type of that name, as a column type is written
     * (varchar(20), int[], serial): the base name before any modifier or array brackets.
     */
    public boolean knowsType(String typeSql) {
        String base = baseTypeName(typeSql);
        return find('t', base) != null || find('s', base) != null;
    }

    /** Whether this major can call the name: a function, a type (a cast such as numeric(10,2)) or a keyword (coalesce). */
    public boolean callable(String name) {
        return find('f', name) != null || find('t', name) != null || find('k', name) != null;
    }

    /**
     * Whether some PostgreSQL major zdm knows has the name as a built-in function, type or keyword: a
     * name that none has can only be an extension's or the user's.
     */
    public boolean builtInSomewhere(String name) {
        return findInAnyMajor('f', name) || findInAnyMajor('t', name) || findInAnyMajor('k', name)
                || findInAnyMajor('s', name);
    }

    /** The base name of a column type as written: varchar(20) → varchar, int[] → int. */
    public static String baseTypeName(String typeSql) {
        int cut = typeSql.length();
        for (int i = 0; i < typeSql.length(); i++) {
            if (typeSql.charAt(i) == '(' || typeSql.charAt(i) == '[') {
                cut = i;
                break;
            }
        }
        return typeSql.substring(0, cut).trim();
    }

    /** The type a name means (int → integer, timestamptz → timestamp with time zone); empty if unknown. */
    public Optional<String> canonicalType(String name) {
        return Optional.ofNullable(find('t', name));
    }

    /** serial → integer, bigserial → bigint, smallserial → smallint: empty for any other name. */
    public Optional<String> serialType(String name) {
        return Optional.ofNullable(find('s', name));
    }

    /** The value of the fact of that kind and name which this major has, or null. */
    private String find(char kind, String name) {
        String prefix = kind + "\t" + name + "\t";
        int lo = 0;
        int hi = lines.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (lines[mid].compareTo(prefix) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (int i = lo; i < lines.length && lines[i].startsWith(prefix); i++) {
            String line = lines[i];
            int tab = line.indexOf('\t', prefix.length());
            if (tab + 1 == line.length() || VersionRanges.contains(line.substring(tab + 1), major)) {
                return line.substring(prefix.length(), tab);
            }
        }
        return null;
    }

    private boolean findInAnyMajor(char kind, String name) {
        String prefix = kind + "\t" + name + "\t";
        int i = java.util.Arrays.binarySearch(lines, prefix);
        int at = i >= 0 ? i : -i - 1;
        return at < lines.length && lines[at].startsWith(prefix);
    }

    private static PgFacts load(int wanted) {
        try (InputStream raw = PgFacts.class.getResourceAsStream(RESOURCE)) {
            if (raw == null) {
                throw new IllegalStateException("no " + RESOURCE + " on the class path: regenerate it (README, PostgreSQL facts)");
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8));
            int[] majors = majorsOf(in.readLine());
            int major = Math.max(majors[0], Math.min(majors[majors.length - 1], wanted));
            List<String> lines = new ArrayList<>(5000);
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lines.add(line);
            }
            return new PgFacts(major, lines.toArray(new String[0]));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
    }

    /** The header names the majors the facts were read from: {@code # majors 10 11 ... 18}. */
    private static int[] majorsOf(String header) {
        if (header == null || !header.startsWith("# majors ")) {
            throw new IllegalStateException(RESOURCE + " has no '# majors' header");
        }
        String[] words = header.substring("# majors ".length()).trim().split(" ");
        int[] majors = new int[words.length];
        for (int i = 0; i < words.length; i++) {
            majors[i] = Integer.parseInt(words[i]);
        }
        java.util.Arrays.sort(majors);
        return majors;
    }
}
