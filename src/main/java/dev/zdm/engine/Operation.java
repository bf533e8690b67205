package dev.zdm.engine;

import dev.zdm.pg.SqlName;

/**
 * One request as an engine sees it before planning: its type, its table, {@code identity} (the
 * normalized request: what it changes, not how fast, so the same request sent again is the same
 * operation), the request as it came ({@code requestJson}, for the record), and when its backfill pauses
 * for a strained server ({@code throttling}: what it leaves unset is the node's).
 */
public record Operation(String type, SqlName table, String identity, String requestJson, Throttling throttling) {
}
