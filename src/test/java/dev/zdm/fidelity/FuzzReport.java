package dev.zdm.fidelity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * docs/fidelity.md: per version, how many fuzzed scripts agree, how many disagree and why (a known
 * gap, data the simulator cannot see, or nothing known: a bug), then each kind of disagreement with
 * a shrunk script that shows it.
 */
final class FuzzReport {

    /** One disagreement with its shrunk script (null when not shrunk) and what the shrunk one still differs on. */
    record Example(int version, Script script, List<String> differences, Script shrunk, List<String> shrunkDifferences) {
    }

    static final class Tally {
        int runs;
        int agree;
        int dataDependent;
        int dataDependentAgree;
        int unexplained;
    }

    static final int MORE_PER_KIND = 12;

    private final long seed;
    private final int scripts;
    private final Map<Integer, Tally> tallies = new TreeMap<>();
    private final Map<String, List<Example>> examples = new LinkedHashMap<>();
    private final List<Example> unexplained = new ArrayList<>();
    private final List<Example> everyRun = new ArrayList<>();
    /** What PostgreSQL did with each script, by version: how much the versions differ among themselves. */
    private final Map<String, Map<Integer, String>> postgresOutcomes = new LinkedHashMap<>();

    FuzzReport(long seed, int scripts) {
        this.seed = seed;
        this.scripts = scripts;
    }

    /** Whether a disagreement of this script's kind still wants a shrunk example on this version. */
    /** Whether a disagreement of this script's kind still wants a shrunk example. */
    boolean wantsExample(Script script, List<String> differences, int perKind) {
        return examples.getOrDefault(kind(script, differences), List.of()).stream()
                .filter(e -> e.shrunk() != null).count() < perKind;
    }

    void add(int version, Script script, ScriptRunner.Run postgres, List<String> differences, Script shrunk,
             List<String> shrunkDifferences) {
        Tally t = tallies.computeIfAbsent(version, v -> new Tally());
        t.runs++;
        everyRun.add(new Example(version, script, differences, shrunk, shrunkDifferences));
        // Without the lock seen: whether a poll caught a short lock is chance, not the version.
        postgresOutcomes.computeIfAbsent(script.id(), k -> new TreeMap<>())
                .put(version, postgres.toString().replaceAll(" lock=[A-Za-z ]+", ""));
        boolean data = script.dependsOnData();
        if (data) {
            t.dataDependent++;
        }
        if (differences.isEmpty()) {
            t.agree++;
            if (data) {
                t.dataDependentAgree++;
            }
            return;
        }
        Example example = new Example(version, script, differences, shrunk, shrunkDifferences);
        examples.computeIfAbsent(kind(script, differences), k -> new ArrayList<>()).add(example);
        if (data) {
            return;
        }
        t.unexplained++;
        unexplained.add(example);
    }

    List<String> unexplained() {
        List<String> all = new ArrayList<>();
        for (Example e : unexplained) {
            all.add("PostgreSQL " + e.version() + ", " + e.script().id() + ": " + e.differences()
                    + (e.shrunk() == null ? "" : "\nshrunk:\n" + e.shrunk().jsonl()));
        }
        return all;
    }

    private long differingFrom(int version, int newest) {
        return postgresOutcomes.values().stream()
                .filter(byVersion -> byVersion.containsKey(version) && byVersion.containsKey(newest))
                .filter(byVersion -> !byVersion.get(version).equals(byVersion.get(newest))).count();
    }

    /**
     * Where a disagreement goes: data the simulator cannot see, or nowhere (a bug); on a table shape, with
     * the shape and what the first difference is (the reply types and codes, or the catalog), so a shrunk
     * script stays the same disagreement.
     */
    static String kind(Script script, List<String> differences) {
        String kind = script.dependsOnData() ? "depends on data" : "UNEXPLAINED";
        if (script.shape() == TableShapes.Shape.KEYS) {
            return kind;
        }
        return kind + " (shape " + script.shape().name().toLowerCase(java.util.Locale.ROOT)
                + (differences.isEmpty() ? "" : ": " + signature(differences.get(0))) + ")";
    }

    private static final java.util.regex.Pattern REPLIES = java.util.regex.Pattern.compile(
            "message \\d+: simulator (\\S+(?: \\d+)?).* \\| PostgreSQL (\\S+(?: \\d+)?)");

    /** "index_created / error 22", or "catalog". */
    static String signature(String difference) {
        var m = REPLIES.matcher(difference);
        return m.lookingAt() ? m.group(1) + " / " + m.group(2) : "catalog";
    }

    void write(Path file, List<Integer> versions, double seconds) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Fidelity: the simulator against real PostgreSQL, by differential fuzzing\n\n")
          .append("Written by `FuzzIT` (see docs/proof.md); do not edit by hand. ").append(scripts)
          .append(" scripts from seed ").append(seed).append(" (`ScriptGenerator`) ran on the simulator (`--pg-version` set\n")
          .append("to match, planning against the schema read from that server) and on an embedded PostgreSQL of each version,\n")
          .append("through the node's own handlers, on a users table of 0 to 2,500 rows; ").append(String.format("%.0f", seconds))
          .append(" s in all. Compared: each reply's type, code,\n")
          .append("keys and values but durations, the server's wording and what only a server has (pid, transaction ages);\n")
          .append("the planned steps; table_locked, table_rewritten; the strongest lock the migration held (a job's exactly,\n")
          .append("the rest as far as polling pg_locks saw it); the table's catalog afterwards (columns with type, NOT NULL\n")
          .append("and whether a default is set, indexes with validity and uniqueness, CHECK constraints). A job with a\n")
          .append("`where` off the key has its counts left out, and above 1000 rows a batch count only has to reach\n")
          .append("total_rows / batch_size (see docs/proof.md).\n\n");
        int newest = versions.get(versions.size() - 1);
        md.append("| PostgreSQL | scripts | agree | agree, outside data | depend on data (agree) | unexplained | PostgreSQL's outcome differs from ")
          .append(newest).append("'s |\n")
          .append("|---|---|---|---|---|---|---|\n");
        for (int v : versions) {
            Tally t = tallies.getOrDefault(v, new Tally());
            int outside = t.runs - t.dataDependent;
            int outsideAgree = outside - t.unexplained;
            md.append("| ").append(v).append(" | ").append(t.runs).append(" | ").append(t.agree)
              .append(String.format(" (%.1f%%)", t.runs == 0 ? 0 : 100.0 * t.agree / t.runs))
              .append(" | ").append(outsideAgree).append(" of ").append(outside)
              .append(String.format(" (%.1f%%)", outside == 0 ? 100 : 100.0 * outsideAgree / outside))
              .append(" | ").append(t.dataDependent).append(" (").append(t.dataDependentAgree)
              .append(") | ").append(t.unexplained).append(" | ").append(differingFrom(v, newest)).append(" |\n");
        }
        md.append("\nThe last column counts the scripts whose replies or catalog on that version's server differ from\n")
          .append("what the newest one did (a constant default that rewrites before 11, gen_random_uuid() from 13,\n")
          .append("random_normal() from 16, SET NOT NULL that trusts a CHECK from 12, a domain's default that old rows\n")
          .append("do not read on 11 and 12): the versions behave differently,\n")
          .append("and the simulator follows each.\n");
        md.append("\n\"Depend on data\" are scripts whose outcome turns on rows the simulator cannot see (duplicates under\n")
          .append("a unique index over a column the script filled): counted apart, they never fail the build.\n")
          .append("Any other disagreement is \"unexplained\" and fails it.\n");
        md.append("\n## Every kind of disagreement left, with a shrunk script\n\n");
        if (examples.isEmpty()) {
            md.append("None.\n");
        }
        examples.forEach((kind, list) -> {
            md.append("### ").append(kind).append(" (").append(list.size()).append(" runs; on ")
              .append(list.stream().map(e -> e.version()).distinct().sorted().map(String::valueOf)
                      .collect(java.util.stream.Collectors.joining(", "))).append(")\n\n");
            list.stream().filter(e -> e.shrunk() != null).forEach(e -> {
                md.append("PostgreSQL ").append(e.version()).append(", from ").append(e.script().id()).append(":\n\n```\n")
                  .append(e.shrunk().jsonl()).append("```\n\n");
                e.shrunkDifferences().forEach(d -> md.append("- ").append(d).append('\n'));
                md.append('\n');
            });
            List<Example> rest = list.stream().filter(e -> e.shrunk() == null).toList();
            if (!rest.isEmpty()) {
                md.append("Others of this kind (first difference):\n\n");
                rest.stream().limit(MORE_PER_KIND).forEach(e -> md.append("- PostgreSQL ").append(e.version()).append(", ")
                        .append(e.script().id()).append(": ").append(e.differences().get(0)).append('\n'));
                if (rest.size() > MORE_PER_KIND) {
                    md.append("- and ").append(rest.size() - MORE_PER_KIND).append(" more\n");
                }
                md.append('\n');
            }
        });
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, md.toString());
        String dump = System.getProperty(DUMP);
        if (dump != null) {
            writeDump(Path.of(dump));
        }
    }

    /** Every run, one JSON line each (version, script, shape, differences, none where they agree): for triage. */
    static final String DUMP = "zdm.fuzz.dump";

    private void writeDump(Path file) throws IOException {
        StringBuilder lines = new StringBuilder();
        everyRun.forEach(e -> {
            var line = dev.zdm.protocol.Json.MAPPER.createObjectNode();
            line.put("version", e.version());
            line.put("id", e.script().id());
            line.put("shape", e.script().shape().name());
            line.put("rows", e.script().rows());
            line.put("key", e.script().key().name());
            line.put("data", e.script().dependsOnData());
            e.script().messages().forEach(line.withArray("messages")::add);
            e.differences().forEach(line.withArray("differences")::add);
            if (e.shrunk() != null) {
                line.put("shrunk_rows", e.shrunk().rows());
                e.shrunk().messages().forEach(line.withArray("shrunk")::add);
            }
            lines.append(line).append('\n');
        });
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, lines.toString());
    }
}
