package dev.zdm.engine;

import java.util.List;
import java.util.Map;

/** The session names in an error 14's blocked_by, in the order the reply lists them. */
public final class BlockedBy {

    private BlockedBy() {
    }

    @SuppressWarnings("unchecked")
    public static List<Object> sessions(Map<String, Object> details) {
        return ((List<Map<String, Object>>) details.get("blocked_by")).stream().map(b -> b.get("session")).toList();
    }
}
