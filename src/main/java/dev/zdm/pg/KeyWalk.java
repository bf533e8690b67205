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
     * The statement that finds where the next batch of at most {@code limit} rows after {@code after}
     * (null: from the start) up to {@code end} lies, run first in the batch's transaction: its one row
     * (none: nothing is left) is what {@link #batch} is given as {@code found}. Null for a walk that knows
     * its next range without asking the server.
     */
    Bound range(Backfill job, KeyPosition after, KeyPosition end, long limit);

    /**
     * One batch after {@code after} (null: from the start) up to {@code end} inclusive, at most
     * {@code limit} rows, over what {@link #range} found ({@code found}: that row's values as text, null
     * when it found none): its result is one row, the rows updated and the position it reached (NULL:
     * nothing was left). Null when nothing is left to run.
     */
    Bound batch(Backfill job, KeyPosition after, KeyPosition end, long limit, List<String> found);

    /** The work a batch did, in rows, for sizing the next: a block walk counts the rows its blocks hold. */
    long work(Bound batch, long rowsUpdated);

    /**
     * The key of the row a one-row batch after {@code after} takes, as its values' text: what an error
     * names when that row alone is too slow. Null for a walk whose rows have no key (blocks).
     */
    Bound firstRow(Backfill job, KeyPosition after, KeyPosition end);

    /** The batch's statements explain shows, as every batch but the first runs them. */
    String sql(Backfill job);

    /**
     * Along a unique key (one column or several, compared as a row, as its btree index orders them). A
     * batch first finds the end of its next {@code limit} matching keys ({@link #range}), then updates
     * that key range only, both bounds sent as parameters, so the planner walks the index, generic plan
     * or not, and never scans the table. The end of the range is the last of those keys, found by ORDER
     * BY ... DESC LIMIT 1 (max() exists for neither uuid nor a row).
     *
     * <p>Why two statements: with the end found in the same statement (a subquery), the UPDATE's upper
     * bound is unknown when it is planned, and the planner guesses a row comparison from its leading
     * column alone, a third of the table per side; for a key whose order is not the table's (md5 text,
     * (tenant uuid, id)) it then preferred a scan of the whole table, for every batch, even a one-row
     * one (measured on 15, 1,000,000 rows: 526 ms per batch, ~3 rows/s). A key's values read back
     * through their text are the same values the checkpoint holds, so consecutive ranges still meet
     * exactly.
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

        /**
         * Parameters: the key after which the batch starts (none for the first), the job's end key, the
         * batch's size. Its row: the last of the keys found, then, for the first batch, the first (the
         * UPDATE's lower bound: bounded only from above it is planned as a scan of a third of the table).
         * No row: nothing is left.
         */
        @Override
        public Bound range(Backfill job, KeyPosition after, KeyPosition end, long limit) {
            List<Object> params = new ArrayList<>();
            if (after != null) {
                params.addAll(after.values());
            }
            params.addAll(end.values());
            params.add(limit);
            return new Bound(rangeSql(job, after == null), params);
        }

        @Override
        public Bound batch(Backfill job, KeyPosition after, KeyPosition end, long limit, List<String> found) {
            int n = columns().size();
            if (found == null) {
                // Nothing left: the statement still runs, so the last batch takes the table's lock as
                // every batch does, and updates nothing.
                List<Object> params = new ArrayList<>();
                return new Bound(updateSql(job, false, true), params);
            }
            List<String> last = found.subList(0, n);
            List<String> from = after != null ? after.values() : found.subList(n, 2 * n);
            List<Object> params = new ArrayList<>(from);
            params.addAll(last);
            if (n > 1) {
                params.add(from.get(0));
                params.add(last.get(0));
            }
            params.addAll(last);
            return new Bound(updateSql(job, after == null, false), params);
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
            return rangeSql(job, false) + "; " + updateSql(job, false, false);
        }

        /** The statement of {@link #range}: the next keys of the walk, their last and (first batch) first. */
        public String rangeSql(Backfill job, boolean first) {
            String k = row(null);
            String after = first ? "" : k + " > " + parameters() + " AND ";
            List<String> aliased = new ArrayList<>();
            List<String> lastText = new ArrayList<>();
            List<String> firstText = new ArrayList<>();
            for (int i = 0; i < columns().size(); i++) {
                aliased.add(columns().get(i).name().quoted() + " AS zdm_k" + (i + 1));
                // Named apart from zdm_k: ORDER BY zdm_k1 then orders by the key, not by its text.
                lastText.add(KeyText.of("zdm_k" + (i + 1), columns().get(i).type()) + " AS zdm_last" + (i + 1));
                firstText.add(KeyText.of("zdm_k" + (i + 1), columns().get(i).type()) + " AS zdm_first" + (i + 1));
            }
            // A job that fills NULLs finds its next keys by the key alone: the planner has no statistics
            // for a column just added, guesses few NULLs, and past a few thousand keys turns the search
            // into a scan of the whole table and a sort (measured on 15: 3,604 keys took 226 ms by a seq
            // scan, 2,000 took 24 ms by the index). The UPDATE still fills only the NULLs of that range.
            String keysCondition = job.fillsNulls() ? "" : " AND " + job.conditionSql();
            String keys = "WITH zdm_keys AS (SELECT " + String.join(", ", aliased) + " FROM " + job.target()
                    + " WHERE " + after + k + " <= " + parameters() + keysCondition + " ORDER BY "
                    + orderBy(null, "") + " LIMIT ?) ";
            String last = "(SELECT " + String.join(", ", lastText) + " FROM zdm_keys ORDER BY "
                    + orderBy("zdm_k", " DESC") + " LIMIT 1) zdm_last";
            if (!first) {
                return keys + "SELECT * FROM " + last;
            }
            return keys + "SELECT * FROM " + last + " CROSS JOIN (SELECT " + String.join(", ", firstText)
                    + " FROM zdm_keys ORDER BY " + orderBy("zdm_k", "") + " LIMIT 1) zdm_first";
        }

        /**
         * The UPDATE of one key range, both bounds parameters: the start (exclusive; inclusive for the
         * first batch, whose start is its first key), the end (inclusive), for a key of several columns
         * its leading column's bounds again, then the end again, echoed as the position reached. The
         * leading column's bounds say nothing the row comparison does not imply, but the planner reads
         * them as one range of that column, where it guesses each row comparison apart from the other
         * (a generic plan estimated 111,111 of 1,000,000 rows for any batch without them, 556 with).
         * {@code none}: nothing is left; it only takes the table's lock.
         */
        public String updateSql(Backfill job, boolean first, boolean none) {
            String k = row(null);
            String c = job.conditionSql();
            String where;
            List<String> ends = new ArrayList<>();
            if (none) {
                where = "false";
                columns().forEach(col -> ends.add("NULL::text"));
            } else {
                where = k + (first ? " >= " : " > ") + parameters() + " AND " + k + " <= " + parameters();
                if (columns().size() > 1) {
                    KeyColumn lead = columns().get(0);
                    String p = lead.type() == null ? "?" : "?::" + lead.type().sql();
                    where += " AND " + lead.name().quoted() + " >= " + p + " AND " + lead.name().quoted() + " <= " + p;
                }
                where += " AND " + c;
                columns().forEach(col -> ends.add("?::text"));
            }
            return "WITH zdm_done AS (UPDATE " + job.target() + " SET " + job.setClause() + " WHERE " + where
                    + " RETURNING 1) SELECT count(*), " + String.join(", ", ends) + " FROM zdm_done";
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
        public Bound range(Backfill job, KeyPosition after, KeyPosition end, long limit) {
            return null;
        }

        @Override
        public Bound batch(Backfill job, KeyPosition after, KeyPosition end, long limit, List<String> found) {
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
