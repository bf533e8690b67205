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
