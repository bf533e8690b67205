package dev.zdm.fidelity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Shrinks a script that disagrees to one that still does and from which nothing more can be taken:
 * messages dropped, the table emptied, optional fields removed. Greedy, one change at a time, with a
 * cap on how many times the engines are run.
 */
final class Shrinker {

    static final int MAX_TRIES = 40;
    private static final List<String> KEPT = List.of("type", "table", "session");

    private Shrinker() {
    }

    static Script shrink(Script script, Predicate<Script> disagrees) {
        Script best = script;
        int tries = 0;
        boolean changed = true;
        while (changed && tries < MAX_TRIES) {
            changed = false;
            for (Script candidate : smaller(best)) {
                if (tries++ >= MAX_TRIES) {
                    break;
                }
                if (disagrees.test(candidate)) {
                    best = candidate;
                    changed = true;
                    break;
                }
            }
        }
        return best;
    }

    private static List<Script> smaller(Script s) {
        List<Script> candidates = new ArrayList<>();
        for (int i = s.messages().size() - 1; i >= 0 && s.messages().size() > 1; i--) {
            candidates.add(s.without(i));
        }
        for (int rows : ScriptGenerator.ROWS) {
            if (rows < s.rows()) {
                candidates.add(s.withRows(rows));
                break;
            }
        }
        for (int i = 0; i < s.messages().size(); i++) {
            ObjectNode m = s.messages().get(i);
            List<String> keys = new ArrayList<>();
            m.fieldNames().forEachRemaining(keys::add);
            for (String key : keys) {
                if (!KEPT.contains(key) && !(key.equals("column") && !m.has("columns"))) {
                    ObjectNode fewer = m.deepCopy();
                    fewer.remove(key);
                    candidates.add(s.replacing(i, fewer));
                }
            }
        }
        return candidates;
    }
}
