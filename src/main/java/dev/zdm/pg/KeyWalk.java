package dev.zdm.pg;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The order a batched job walks its table in, and the SQL of each batch along it: by a unique key
 * ({@link Keyset}: the primary key, else a unique index on NOT NULL columns), or, for a job that only
 * fills NULLs, by block ranges ({@link Blocks}). Positions are {@link KeyPosition}s; every value reaches
 * the server as a bind parameter cast to the key column's type, never as SQL text.
 */
public sealed interface KeyWalk permits KeyWalk.Keyset, KeyWalk.Blocks {

    /** A statement and its parameters in order: Strings sent as text the cast reads, Longs as bigint. */
    record Bound(String sql, List<Object> params) {
        public Bound {
            params = List.copyOf(params);
        }
    }

    /** How a checkpoint names the walk, so that a position is only ever read back along the walk that wrote it. */
    String describe();

    /**
     * Where the job ends now: one row (or none: nothing to walk) of the end position's values as text
     * and, when {@code previousEnd} is given, whether the end now lies beyond it (compared by the server,
     * in the key's own order).
     */
    Bound end(Backfill job, KeyPosition previousEnd);

    /**
     * One batch after {@code after} (null: from the start) up to {@code end} inclusive, at most
     * {@code limit} rows: its result is one row, the rows updated and the position it reached (NULL:
     * nothing was left). Null when nothing is left to run.
     */
    Bound batch(Backfill job, KeyPosition after, KeyPosition end, long limit);

    /** The work a batch did, in rows, for sizing the next: a block walk counts the rows its blocks hold. */
    long work(Bound batch, long rowsUpdated);

    /**
     * The key of the row a one-row batch after {@code after} takes, as its values' text: what an error
     * names when that row alone is too slow. Null for a walk whose rows have no key (blocks).
     */
    Bound firstRow(Backfill job, KeyPosition after, KeyPosition end);

    /** The batch statement explain shows: the one every batch but the first runs. */
    String sql(Backfill job);

    /**
     * Along a unique key (one column or several, compared as a row, as its btree index orders them). A
     * batch finds the end of its next {@code limit} matching keys, then updates that key range only,
     * so the planner walks the index, generic plan or not, and never scans the table. The end of the
     * range is the last of those keys, found by ORDER BY ... DESC LIMIT 1 (max() exists for neither
     * uuid nor a row).
     */
    record Keyset(UniqueKey key) implements KeyWalk {

        public List<KeyColumn> columns() {
            return key.columns();
        }

        @Override
        public String describe() {
            return key.index() + " " + columns().stream().map(k -> k.name().value()).collect(Collectors.joining(","));
        }

        /** "a" or ("a", "b"). */
        private String row(String prefix) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < columns().size(); i++) {
                names.add(prefix == null ? columns().get(i).name().quoted() : prefix + (i + 1));
            }
            return names.size() == 1 ? names.get(0) : "(" + String.join(", ", names) + ")";
        }

        /** ?::uuid or (?::integer, ?::text): each value cast to its column's type. */
        private String parameters() {
            List<String> casts = columns().stream()
                    .map(k -> k.type() == null ? "?" : "?::" + k.type().sql()).toList();
            return casts.size() == 1 ? casts.get(0) : "(" + String.join(", ", casts) + ")";
        }

        private String orderBy(String prefix, String direction) {
            List<String> terms = new ArrayList<>();
            for (int i = 0; i < columns().size(); i++) {
                terms.add((prefix == null ? columns().get(i).name().quoted() : prefix + (i + 1)) + direction);
            }
            return String.join(", ", terms);
        }

        /**
         * Each key column as text, named apart from the column: ORDER BY "id" would otherwise order by the
         * output column "id", the text, where '999' comes after '3000'.
         */
        private String asText() {
            List<String> terms = new ArrayList<>();
            for (int i = 0; i < columns().size(); i++) {
                terms.add(KeyText.of(columns().get(i).name().quoted(), columns().get(i).type()) + " AS zdm_end" + (i + 1));
            }
            return String.join(", ", terms);
        }

        @Override
        public Bound end(Backfill job, KeyPosition previousEnd) {
            String further = previousEnd == null ? "" : ", " + row(null) + " > " + parameters();
            List<Object> params = previousEnd == null ? List.of() : List.copyOf(previousEnd.values());
            return new Bound("SELECT " + asText() + further + " FROM " + job.target() + " ORDER BY "
                    + orderBy(null, " DESC") + " LIMIT 1", params);
        }

        @Override
        public Bound batch(Backfill job, KeyPosition after, KeyPosition end, long limit) {
            List<Object> params = new ArrayList<>();
            if (after != null) {
                params.addAll(after.values());
            }
            params.addAll(end.values());
            params.add(limit);
            if (after != null) {
                params.addAll(after.values());
            }
            return new Bound(batchSql(job, after == null), params);
        }

        @Override
        public long work(Bound batch, long rowsUpdated) {
            return rowsUpdated;
        }

        @Override
        public Bound firstRow(Backfill job, KeyPosition after, KeyPosition end) {
            List<Object> params = new ArrayList<>();
            if (after != null) {
                params.addAll(after.values());
            }
            params.addAll(end.values());
            String from = after == null ? "" : row(null) + " > " + parameters() + " AND ";
            return new Bound("SELECT " + asText() + " FROM " + job.target() + " WHERE " + from + row(null)
                    + " <= " + parameters() + " AND " + job.conditionSql() + " ORDER BY " + orderBy(null, "")
                    + " LIMIT 1", params);
        }

        /** "id" or ("a", "b"): how an error names the key's columns. */
        public String columnsText() {
            return row(null);
        }

        @Override
        public String sql(Backfill job) {
            return batchSql(job, false);
        }

        /**
         * Parameters: the key after which the batch starts (none for the first), the job's end key, the
         * batch's size, the start key again. It runs, and locks the table, even when the range holds no row.
         */
        public String batchSql(Backfill job, boolean first) {
            String t = job.target();
            String k = row(null);
            String after = first ? "" : k + " > " + parameters() + " AND ";
            String keys = columns().size() == 1 ? "zdm_k1" : String.join(", ",
                    java.util.stream.IntStream.rangeClosed(1, columns().size()).mapToObj(i -> "zdm_k" + i).toList());
            List<String> aliased = new ArrayList<>();
            for (int i = 0; i < columns().size(); i++) {
                aliased.add(columns().get(i).name().quoted() + " AS zdm_k" + (i + 1));
            }
            List<String> ends = new ArrayList<>();
            for (int i = 0; i < columns().size(); i++) {
                ends.add("(SELECT " + KeyText.of("zdm_k" + (i + 1), columns().get(i).type()) + " FROM zdm_range)");
            }
            String c = job.conditionSql();
            // A job that fills NULLs finds its next keys by the key alone: the planner has no statistics
            // for a column just added, guesses few NULLs, and past a few thousand keys turns the search
            // into a scan of the whole table and a sort (measured on 15: 3,604 keys took 226 ms by a seq
            // scan, 2,000 took 24 ms by the index). The UPDATE still fills only the NULLs of that range.
            String keysCondition = job.fillsNulls() ? "" : " AND " + c;
            // The first batch's UPDATE is bounded below by its first key too: with only "<= (subquery)"
            // the planner guesses a third of the table and scans all of it (measured on 15: every first
            // batch of a 1,000,000-row backfill cut at its deadline, down to one row).
            String updateFrom = first ? k + " >= (SELECT " + keys + " FROM zdm_keys ORDER BY "
                    + orderBy("zdm_k", "") + " LIMIT 1) AND " : after;
            return "WITH zdm_keys AS (SELECT " + String.join(", ", aliased) + " FROM " + t + " WHERE " + after + k
                    + " <= " + parameters() + keysCondition + " ORDER BY " + orderBy(null, "") + " LIMIT ?), "
                    + "zdm_range AS (SELECT " + keys + " FROM zdm_keys ORDER BY " + orderBy("zdm_k", " DESC") + " LIMIT 1), "
                    + "zdm_done AS (UPDATE " + t + " SET " + job.setClause() + " WHERE " + updateFrom + k
                    + " <= (SELECT " + keys + " FROM zdm_range) AND " + c + " RETURNING 1) "
                    + "SELECT count(*), " + String.join(", ", ends) + " FROM zdm_done";
        }

        /** Whether the key is one integer column, the only kind a checkpoint of zdm before any key could hold. */
        public boolean integerKey() {
            return columns().size() == 1 && columns().get(0).type() != null
                    && List.of("smallint", "integer", "bigint", "int", "int2", "int4", "int8").contains(columns().get(0).type().sql());
        }
    }

    /**
     * By block ranges, for a table with no unique key, and only for a job that fills NULLs: a TID range
     * scan ({@code ctid >= '(n,0)' AND ctid < '(m,0)'}, PostgreSQL 14+; before 14 the same condition
     * filters a plain scan of the table, batch after batch). A row the application moves (UPDATE writes a
     * new version elsewhere, possibly into blocks already walked) keeps its NULL, so the walk repeats,
     * over the table's blocks at that time, until a whole pass finds no NULL left: filling a NULL twice is
     * impossible, so any pass is harmless.
     */
    record Blocks() implements KeyWalk {

        /**
         * The rows a block is counted as when sizing batches: the sizer measures work per time in these
         * units, so it sizes a batch's blocks by time, whatever the table's real density.
         */
        public static final long ROWS_PER_BLOCK = 100;

        @Override
        public String describe() {
            return "ctid";
        }

        @Override
        public Bound end(Backfill job, KeyPosition previousEnd) {
            String further = previousEnd == null ? "" : ", n > ?::bigint";
            // The table's own heap: an inheritance child's blocks are its own job's.
            List<Object> params = new ArrayList<>(List.of(job.table().quoted()));
            if (previousEnd != null) {
                params.add(previousEnd.values().get(0));
            }
            return new Bound("SELECT n::text" + further + " FROM (SELECT pg_relation_size(?::regclass)"
                    + " / current_setting('block_size')::bigint AS n) zdm_size WHERE n > 0", params);
        }

        @Override
        public Bound batch(Backfill job, KeyPosition after, KeyPosition end, long limit) {
            long from = after == null ? 0 : Long.parseLong(after.values().get(0));
            long last = Long.parseLong(end.values().get(0));
            if (from >= last) {
                return null;
            }
            long to = Math.min(last, from + Math.max(1, (limit + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK));
            return new Bound(sql(job), List.of("(" + from + ",0)", "(" + to + ",0)", Long.toString(to)));
        }

        @Override
        public long work(Bound batch, long rowsUpdated) {
            String first = (String) batch.params().get(0);
            long from = Long.parseLong(first.substring(1, first.indexOf(',')));
            long to = Long.parseLong((String) batch.params().get(2));
            return (to - from) * ROWS_PER_BLOCK;
        }

        @Override
        public Bound firstRow(Backfill job, KeyPosition after, KeyPosition end) {
            return null;
        }

        /** Parameters: the first block as a tid, the block after the last as a tid, that block's number. */
        @Override
        public String sql(Backfill job) {
            return "WITH zdm_done AS (UPDATE " + job.target() + " SET " + job.setClause()
                    + " WHERE ctid >= ?::tid AND ctid < ?::tid AND " + job.conditionSql() + " RETURNING 1) "
                    + "SELECT count(*), ?::text FROM zdm_done";
        }
    }
}
