package dev.zdm.fidelity;

import dev.zdm.pg.PgFacts;
import dev.zdm.pg.VersionRanges;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.GZIPOutputStream;

/**
 * Writes {@link PgFacts#RESOURCE} from the servers themselves: every PostgreSQL major whose binaries the
 * build copied is started, and its pg_proc, pg_type and pg_get_keywords() are read. Run by
 * {@code mvn -Pfacts verify}; the output is committed, so the node never needs a server to know them.
 */
public final class FactsGenerator {

    /**
     * The column types that are parser sugar, not pg_type rows: parse_utilcmd.c,
     * transformColumnDefinition, turns each into an integer type, a sequence, a nextval() default and
     * NOT NULL. What each becomes is read back from the server below, not assumed.
     */
    static final List<String> SERIAL_CANDIDATES = List.of("smallserial", "serial2", "serial", "serial4", "bigserial", "serial8");

    /** fact line (kind, name, value) → the majors that have it. */
    private final Map<String, SortedSet<Integer>> facts = new TreeMap<>();

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "src/main/resources" + PgFacts.RESOURCE);
        List<Integer> majors = VersionedServer.available();
        FactsGenerator generator = new FactsGenerator();
        for (int major : majors) {
            try (VersionedServer server = VersionedServer.start(major);
                 Connection c = server.database().connect("zdm-facts")) {
                generator.read(major, c);
            }
            System.err.println("read the facts of PostgreSQL " + major);
        }
        generator.write(out, majors);
        System.err.println("wrote " + out + " (" + Files.size(out) + " bytes)");
    }

    void read(int major, Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            // The strongest volatility over a name's overloads: a DEFAULT naming it may call any of them.
            query(st, """
                    SELECT proname, CASE WHEN bool_or(provolatile = 'v') THEN 'v'
                                         WHEN bool_or(provolatile = 's') THEN 's' ELSE 'i' END
                    FROM pg_proc GROUP BY proname""", (name, v) -> add(major, "f", name, v));
            // Types a column can have (no pseudo-types), by their catalog name and by the name format_type
            // prints (double precision, character varying), both of which the parser accepts.
            query(st, """
                    SELECT t.typname, format_type(t.oid, NULL) FROM pg_type t
                    WHERE t.typnamespace = 'pg_catalog'::regnamespace AND t.typtype <> 'p' AND t.typisdefined""",
                    (name, canonical) -> {
                        add(major, "t", name, canonical);
                        add(major, "t", canonical, canonical);
                    });
            query(st, "SELECT word, catcode FROM pg_get_keywords()", (word, cat) -> add(major, "k", word, ""));
            // Keywords that the grammar itself takes as type names (int, dec, float ...). to_regtype
            // raises a syntax error for a reserved word, hence the wrapper; it is created after pg_proc
            // was read and lives only in this session's pg_temp.
            st.execute("""
                    CREATE FUNCTION pg_temp.zdm_regtype(name text) RETURNS regtype LANGUAGE plpgsql AS $f$
                    BEGIN RETURN to_regtype(name); EXCEPTION WHEN others THEN RETURN NULL; END $f$""");
            query(st, "SELECT word, format_type(pg_temp.zdm_regtype(word), NULL) FROM pg_get_keywords() "
                    + "WHERE pg_temp.zdm_regtype(word) IS NOT NULL", (word, canonical) -> add(major, "t", word, canonical));
        }
        for (String serial : SERIAL_CANDIDATES) {
            readSerial(major, c, serial);
        }
        readFunctionKinds(major, c);
        readUnindexable(major, c);
    }

    /**
     * Names every overload of which is an aggregate (a), a window function (w) or returns a set (r): a
     * DEFAULT calling one is refused by the server (42803, 42P20, 0A000) whatever its arguments.
     */
    private void readFunctionKinds(int major, Connection c) throws SQLException {
        String kind = major >= 11 ? "prokind" : "CASE WHEN proisagg THEN 'a' WHEN proiswindow THEN 'w' ELSE 'f' END";
        try (Statement st = c.createStatement()) {
            query(st, "SELECT proname, min(k) FROM (SELECT proname, " + kind + " AS k FROM pg_proc) p"
                    + " GROUP BY proname HAVING min(k) = max(k) AND min(k) IN ('a', 'w')", (name, k) -> add(major, k, name, ""));
            query(st, "SELECT proname, '' FROM pg_proc GROUP BY proname HAVING bool_and(proretset)",
                    (name, none) -> add(major, "r", name, ""));
        }
    }

    /**
     * The built-in types CREATE INDEX cannot index with its default access method: no default btree
     * operator class (xml, point, json; 42704). Asked of the server itself, each in a savepoint.
     */
    private void readUnindexable(int major, Connection c) throws SQLException {
        List<String> types = new java.util.ArrayList<>();
        try (Statement st = c.createStatement()) {
            query(st, """
                    SELECT format_type(t.oid, NULL), '' FROM pg_type t
                    WHERE t.typnamespace = 'pg_catalog'::regnamespace AND t.typtype IN ('b', 'e', 'r', 'm')
                      AND t.typisdefined AND t.typcategory <> 'A' AND t.typname NOT LIKE 'pg\\_%'""", (t, none) -> types.add(t));
        }
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            for (String type : types) {
                st.execute("SAVEPOINT probe");
                try {
                    st.execute("CREATE TEMP TABLE zdm_index_probe (x " + type + ")");
                    st.execute("CREATE INDEX ON zdm_index_probe (x)");
                } catch (SQLException e) {
                    if ("42704".equals(e.getSQLState())) {
                        add(major, "b", type, "");
                    }
                }
                st.execute("ROLLBACK TO SAVEPOINT probe");
            }
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    /** What the server makes of a column declared with the sugar: its type, its default, NOT NULL. */
    private void readSerial(int major, Connection c, String serial) throws SQLException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE zdm_serial_probe (x " + serial + ")");
            try (ResultSet rs = st.executeQuery("""
                    SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
                    FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                    WHERE a.attrelid = 'zdm_serial_probe'::regclass AND a.attname = 'x'""")) {
                if (!rs.next() || !rs.getBoolean(2) || !rs.getString(3).startsWith("nextval(")) {
                    throw new IllegalStateException(serial + " on PostgreSQL " + major
                            + " is not an integer column with NOT NULL and a nextval() default");
                }
                add(major, "s", serial, rs.getString(1));
            }
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    private void add(int major, String kind, String name, String value) {
        // Names are matched as the parser folds unquoted identifiers: lower case.
        facts.computeIfAbsent(kind + "\t" + name.toLowerCase(java.util.Locale.ROOT) + "\t" + value, k -> new TreeSet<>()).add(major);
    }

    void write(Path out, List<Integer> majors) throws IOException {
        Files.createDirectories(out.getParent());
        SortedSet<Integer> all = new TreeSet<>(majors);
        try (OutputStream file = Files.newOutputStream(out);
             Writer w = new OutputStreamWriter(new GZIPOutputStream(file), StandardCharsets.UTF_8)) {
            w.write("# majors " + String.join(" ", majors.stream().map(String::valueOf).toList()) + "\n");
            // Sorted as whole lines: PgFacts finds a fact by binary search over them.
            SortedSet<String> lines = new TreeSet<>();
            facts.forEach((fact, versions) -> lines.add(fact + "\t" + (versions.equals(all) ? "" : VersionRanges.format(versions))));
            for (String line : lines) {
                w.write(line + "\n");
            }
        }
    }

    private interface Row {
        void accept(String a, String b);
    }

    private static void query(Statement st, String sql, Row row) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                row.accept(rs.getString(1), rs.getString(2));
            }
        }
    }
}
