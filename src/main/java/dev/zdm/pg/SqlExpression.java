package dev.zdm.pg;

import dev.zdm.protocol.ZdmException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An SQL expression a message supplies on purpose (a default, a SET value, a WHERE condition). It can
 * only ever be one expression: no statement separator, no comment, balanced quotes and parentheses;
 * it is written inside parentheses so it cannot extend the statement around it. It computes a value
 * and does nothing else: calls to the functions {@link #REFUSED} names are refused before anything runs.
 */
public record SqlExpression(String text) {

    public static final int MAX_LENGTH = 2000;
    private static final Pattern FUNCTION_CALL = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");
    private static final Pattern SEQUENCE_LITERAL = Pattern.compile(
            "(?i)\\b(?:nextval|currval|setval)\\s*\\(\\s*'([^']*)'\\s*(?:::\\s*regclass\\s*)?[,)]");

    /**
     * Functions whose effect reaches past the value they compute, by name prefix (any schema, any case,
     * quoted or not), with what they would do: an expression runs inside zdm's batches, under its
     * settings and row locks, on a backend other sessions may share, so it may compute but not act.
     */
    static final Map<String, String> REFUSED = refused(
            "set_config", "changes a session setting (lock_timeout, statement_timeout, ...) zdm relies on",
            "pg_advisory", "takes advisory locks the batch would hold or leave on the backend",
            "pg_try_advisory", "takes advisory locks the batch would hold or leave on the backend",
            "pg_cancel_", "signals another backend",
            "pg_terminate_", "signals another backend",
            "pg_signal_", "signals another backend",
            "pg_wait_for_backend", "waits for another backend",
            "pg_reload_conf", "reloads the server's configuration",
            "pg_rotate_log", "rotates the server's log",
            "pg_log_backend", "signals another backend",
            "pg_promote", "promotes a standby",
            "pg_switch_", "switches the WAL file",
            "pg_create_", "creates replication slots or restore points",
            "pg_drop_replication", "drops a replication slot",
            "pg_copy_", "copies a replication slot",
            "pg_replication_", "changes replication state",
            "pg_logical_", "consumes or writes logical replication data",
            "pg_start_backup", "controls a backup",
            "pg_stop_backup", "controls a backup",
            "pg_backup_", "controls a backup",
            "pg_wal_replay_", "pauses or resumes WAL replay",
            "pg_xlog_replay_", "pauses or resumes WAL replay",
            "pg_stat_reset", "resets the server's statistics",
            "pg_import_", "creates catalog objects",
            "pg_notify", "notifies other sessions",
            "pg_sleep", "waits, holding the batch's row locks",
            "dblink", "reaches another database",
            "lo_", "reads or writes large objects or the server's files",
            "pg_read_", "reads the server's files",
            "pg_ls_", "lists the server's files",
            "pg_stat_file", "reads the server's files",
            "pg_file_", "writes the server's files",
            "pg_logdir", "lists the server's files",
            "query_to_xml", "runs SQL text this check cannot see",
            "cursor_to_xml", "runs SQL text this check cannot see",
            "query_to_xmlschema", "runs SQL text this check cannot see",
            "ts_stat", "runs SQL text this check cannot see",
            "ts_rewrite", "runs SQL text this check cannot see",
            "setval", "moves a sequence other sessions draw from",
            "binary_upgrade_", "changes the catalog");

    private static Map<String, String> refused(String... prefixAndReason) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < prefixAndReason.length; i += 2) {
            map.put(prefixAndReason[i], prefixAndReason[i + 1]);
        }
        return Collections.unmodifiableMap(map);
    }

    public SqlExpression {
        if (text == null || text.isBlank()) {
            throw ZdmException.malformed("an SQL expression is empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw ZdmException.malformed("an SQL expression is longer than " + MAX_LENGTH + " characters");
        }
        PgText.require(text, "an SQL expression");
        refuseEffects(scan(text));
    }

    /** The expression as it goes into SQL. */
    public String sql() {
        return "(" + text + ")";
    }

    /** The expression as the server's lexer sees its code: string literals emptied, quoted identifiers unquoted. */
    String code() {
        return scan(text);
    }

    /** Names called as functions outside string literals, lower-cased: random, now, ... */
    public Set<String> functionNames() {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = FUNCTION_CALL.matcher(scan(text));
        while (m.find()) {
            names.add(m.group(1).toLowerCase(Locale.ROOT));
        }
        return names;
    }

    /**
     * The relations the sequence functions name by a literal (nextval('orders_id_seq')), as the server
     * resolves the literal when it analyses the expression: folded to lower case unless double-quoted. A
     * literal cast to text first ('s'::text) is resolved only when evaluated, and is left out. A schema-qualified name or one
     * that is no plain identifier is left out: only the server can say what it means.
     */
    public Set<SqlName> sequencesNamed() {
        Set<SqlName> names = new LinkedHashSet<>();
        Matcher m = SEQUENCE_LITERAL.matcher(text);
        while (m.find()) {
            String literal = m.group(1).trim();
            boolean quoted = literal.length() > 1 && literal.startsWith("\"") && literal.endsWith("\"");
            String inner = quoted ? literal.substring(1, literal.length() - 1) : literal;
            // A quoted name is exact (its "" one "); "a"."b" or a.b names a schema, which only the server resolves.
            boolean qualified = quoted ? inner.replace("\"\"", "").contains("\"") : inner.contains(".") || inner.contains("\"");
            String name = quoted ? inner.replace("\"\"", "\"") : inner.toLowerCase(Locale.ROOT);
            if (!qualified) {
                try {
                    names.add(SqlName.of(name));
                } catch (ZdmException notPlain) {
                    // Not a name zdm could have made or check: the server decides.
                }
            }
        }
        return names;
    }

    /**
     * The relations a subquery in the expression reads, as written after FROM or JOIN (or a comma in a
     * FROM list) at a level of parentheses that began with SELECT: the names the server resolves, when it
     * analyses the statement, to tables whose ACCESS SHARE lock every batch then takes. An unquoted name
     * is folded to lower case, a quoted one is exact; a schema qualifies it. Left out: a function in FROM
     * (generate_series(...)), a parenthesised subquery (its own SELECT is read), a WITH query's own name,
     * and what FROM means inside a call (extract(year FROM ts), substring(s FROM 2)), where no SELECT
     * opened the parentheses. A name zdm cannot spell (over 63 bytes) is left to the server.
     */
    public java.util.List<SqlName> relationsRead() {
        java.util.List<Token> tokens = tokens(text);
        Set<String> cteNames = new LinkedHashSet<>();
        for (int i = 0; i + 2 < tokens.size(); i++) {
            // name AS [NOT] [MATERIALIZED] ( ...: a WITH query, which FROM may name as if it were a table.
            if (tokens.get(i).name != null && tokens.get(i + 1).is("as")) {
                int j = i + 2;
                while (j < tokens.size() && (tokens.get(j).is("not") || tokens.get(j).is("materialized"))) {
                    j++;
                }
                if (j < tokens.size() && tokens.get(j).is("(")) {
                    cteNames.add(tokens.get(i).name);
                }
            }
        }
        java.util.List<SqlName> read = new java.util.ArrayList<>();
        java.util.ArrayDeque<Boolean> selectAt = new java.util.ArrayDeque<>();
        selectAt.push(false);
        // The depth at which a FROM list is open (-1: none), and whether its next token starts an item.
        java.util.ArrayDeque<Boolean> inFrom = new java.util.ArrayDeque<>();
        inFrom.push(false);
        boolean expectItem = false;
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (t.is("(")) {
                selectAt.push(false);
                inFrom.push(false);
                expectItem = false;
                continue;
            }
            if (t.is(")")) {
                if (selectAt.size() > 1) {
                    selectAt.pop();
                    inFrom.pop();
                }
                expectItem = false;
                continue;
            }
            if (t.is("select")) {
                selectAt.pop();
                selectAt.push(true);
                continue;
            }
            if (!selectAt.peek()) {
                continue;
            }
            if (t.is("from") && i > 0 && tokens.get(i - 1).is("distinct")) {
                // a IS [NOT] DISTINCT FROM b: a comparison, no FROM clause.
                continue;
            }
            if (t.is("from") || t.is("join")) {
                inFrom.pop();
                inFrom.push(true);
                expectItem = true;
                continue;
            }
            if (inFrom.peek() && t.is(",")) {
                expectItem = true;
                continue;
            }
            if (t.isKeyword() && !t.is("lateral") && !t.is("only")) {
                boolean joinWord = t.is("left") || t.is("right") || t.is("full") || t.is("inner") || t.is("outer")
                        || t.is("cross") || t.is("natural") || t.is("on") || t.is("using") || t.is("as");
                if (!joinWord) {
                    inFrom.pop();
                    inFrom.push(false);
                }
                expectItem = false;
                continue;
            }
            if (!expectItem) {
                continue;
            }
            if (t.is("lateral") || t.is("only")) {
                continue;
            }
            expectItem = false;
            if (t.name == null) {
                continue;
            }
            java.util.List<String> parts = new java.util.ArrayList<>(java.util.List.of(t.name));
            int j = i + 1;
            while (j + 1 < tokens.size() && tokens.get(j).is(".") && tokens.get(j + 1).name != null) {
                parts.add(tokens.get(j + 1).name);
                j += 2;
            }
            i = j - 1;
            if (j < tokens.size() && tokens.get(j).is("(")) {
                // A function in FROM, not a relation.
                continue;
            }
            if (parts.size() == 1 && cteNames.contains(parts.get(0))) {
                continue;
            }
            try {
                read.add(parts.size() == 1 ? new SqlName(parts.get(0))
                        : new SqlName(parts.get(parts.size() - 2), parts.get(parts.size() - 1)));
            } catch (RuntimeException unspellable) {
                // The server resolves what zdm cannot name (and says so if it does not exist).
            }
        }
        return java.util.List.copyOf(new LinkedHashSet<>(read));
    }

    /**
     * The names the expression uses as values (columns, as the server would resolve them: unquoted folded
     * to lower case, quoted exact): no called function, no cast's type, no qualifier and no qualified field.
     */
    public Set<String> namesUsed() {
        java.util.List<Token> tokens = tokens(text);
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (t.name == null) {
                continue;
            }
            boolean called = i + 1 < tokens.size() && (tokens.get(i + 1).is("(") || tokens.get(i + 1).is("."));
            boolean typeOrField = i > 0 && (tokens.get(i - 1).is(".") || tokens.get(i - 1).is(":"));
            if (!called && !typeOrField) {
                names.add(t.name);
            }
        }
        return names;
    }

    /** A token of the expression: a name (folded unless quoted), a keyword-like word, or a punctuation mark. */
    private record Token(String word, String name, boolean quoted) {
        boolean is(String lower) {
            return !quoted && word.equals(lower);
        }

        /** A word that ends a FROM item list or starts a clause (where, group, order, union, ...), not a name. */
        boolean isKeyword() {
            return !quoted && FROM_ENDS.contains(word);
        }
    }

    private static final Set<String> FROM_ENDS = Set.of("where", "group", "having", "order", "limit", "offset",
            "union", "intersect", "except", "window", "fetch", "for", "select", "on", "using", "as", "left", "right",
            "full", "inner", "outer", "cross", "natural", "lateral", "only", "tablesample", "and", "or", "not", "then",
            "when", "else", "end", "case", "in", "is", "between", "like", "ilike", "similar");

    private static java.util.List<Token> tokens(String text) {
        java.util.List<Token> tokens = new java.util.ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '\'') {
                i = closingQuote(text, i, escapeString(text, i)) + 1;
                tokens.add(new Token("''", null, false));
            } else if (c == '"') {
                int close = closingQuote(text, i, false);
                String name = text.substring(i + 1, close).replace("\"\"", "\"");
                tokens.add(new Token(name, name, true));
                i = close + 1;
            } else if (Character.isLetter(c) || c == '_' || c >= 0x80) {
                int end = i;
                while (end < text.length() && (Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_'
                        || text.charAt(end) == '$' || text.charAt(end) >= 0x80)) {
                    end++;
                }
                if (end < text.length() && text.charAt(end) == '\'') {
                    // A typed literal's type or an E'...' prefix: the literal follows as its own token.
                    tokens.add(new Token(text.substring(i, end).toLowerCase(Locale.ROOT), null, false));
                    i = end;
                    continue;
                }
                String word = text.substring(i, end).toLowerCase(Locale.ROOT);
                tokens.add(new Token(word, word, false));
                i = end;
            } else if (Character.isWhitespace(c)) {
                i++;
            } else if (Character.isDigit(c)) {
                int end = i;
                while (end < text.length() && (Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '.')) {
                    end++;
                }
                tokens.add(new Token(text.substring(i, end), null, false));
                i = end;
            } else {
                tokens.add(new Token(String.valueOf(c), null, false));
                i++;
            }
        }
        return tokens;
    }

    /**
     * Scans {@code text} as the server's lexer does and answers it with every string literal emptied and
     * every quoted identifier unquoted ("random"() calls random() too), or refuses it. The scan and the
     * server must agree on where each literal ends under either standard_conforming_strings: a backslash
     * is accepted only inside E'...', which reads escapes under both settings; a plain '...' or a quoted
     * identifier may not hold one (with the setting off it would escape the quote). What some server
     * would read otherwise than the scan (E'...' right after a digit, Unicode escapes) is refused.
     */
    private static String scan(String text) {
        return scan(text, false);
    }

    /** The code with every quoted identifier written "" (a name whose case and characters only the server reads). */
    String codeWithoutQuotedNames() {
        return scan(text, true);
    }

    private static String scan(String text, boolean blankNames) {
        StringBuilder code = new StringBuilder(text.length());
        int depth = 0;
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            char next = i + 1 < text.length() ? text.charAt(i + 1) : 0;
            if (c == '\\') {
                throw ZdmException.malformed(BACKSLASH);
            } else if (c == '\'' || c == '"') {
                if (i >= 2 && text.charAt(i - 1) == '&' && Character.toUpperCase(text.charAt(i - 2)) == 'U') {
                    throw ZdmException.malformed("an SQL expression may not use Unicode escapes (U&'...', U&\"...\")");
                }
                int close = closingQuote(text, i, c == '\'' && escapeString(text, i));
                code.append(c == '\'' ? "''" : blankNames ? "\"\"" : text.substring(i + 1, close).replace("\"\"", "\""));
                i = close + 1;
                continue;
            } else if (c == ';') {
                throw ZdmException.malformed("an SQL expression may not contain ';'");
            } else if ((c == '-' && next == '-') || (c == '/' && next == '*')) {
                throw ZdmException.malformed("an SQL expression may not contain a comment");
            } else if (c == '$') {
                throw ZdmException.malformed("an SQL expression may not contain '$' (parameters, dollar quotes)");
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth < 0) {
                throw ZdmException.malformed("an SQL expression has an unmatched ')'");
            }
            code.append(c);
            i++;
        }
        if (depth != 0) {
            throw ZdmException.malformed("an SQL expression has an unmatched '('");
        }
        return code.toString();
    }

    private static final String BACKSLASH = "an SQL expression may have '\\' only inside an E'...' string";

    /** The index of the quote that ends the literal or identifier opened at {@code open}; a doubled quote does not. */
    private static int closingQuote(String text, int open, boolean escapes) {
        char quote = text.charAt(open);
        for (int j = open + 1; j < text.length(); j++) {
            char c = text.charAt(j);
            if (c == '\\') {
                if (!escapes) {
                    throw ZdmException.malformed(BACKSLASH);
                }
                // The escaped character, a quote too, belongs to the literal.
                j++;
            } else if (c == quote) {
                if (j + 1 < text.length() && text.charAt(j + 1) == quote) {
                    j++;
                } else {
                    return j;
                }
            }
        }
        throw ZdmException.malformed("an SQL expression has an unterminated quote");
    }

    /** E'...' or e'...': an E standing alone before the quote (after a name's letters it ends the name). */
    private static boolean escapeString(String text, int quote) {
        if (quote < 1 || Character.toUpperCase(text.charAt(quote - 1)) != 'E') {
            return false;
        }
        if (quote < 2) {
            return true;
        }
        char before = text.charAt(quote - 2);
        if (Character.isDigit(before)) {
            // 1E'x': before 15 the lexer backs up to 1 and reads E'x' as an escape string; 15 refuses it.
            throw ZdmException.malformed("an SQL expression may not write a string right after a number");
        }
        return !(before == '_' || before == '$' || before >= 0x80 || Character.isLetter(before));
    }

    /** Refuses, naming what it would do, a call in {@code code} to a function {@link #REFUSED} names. */
    private static void refuseEffects(String code) {
        Matcher m = FUNCTION_CALL.matcher(code);
        while (m.find()) {
            String name = m.group(1).toLowerCase(Locale.ROOT);
            for (Map.Entry<String, String> refused : REFUSED.entrySet()) {
                if (name.startsWith(refused.getKey())) {
                    throw ZdmException.malformed("an SQL expression may not call " + name + "(): it "
                            + refused.getValue() + "; an expression only computes a value from the row");
                }
            }
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
