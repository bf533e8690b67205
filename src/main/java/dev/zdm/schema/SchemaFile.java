package dev.zdm.schema;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.pg.ColumnGeneration;
import dev.zdm.pg.DataType;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.ZdmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a schema written by hand (see examples/schema.json): JSON, strict — a key it does not know is an
 * error naming where it is, so a typo never silently becomes a default.
 *
 * <pre>
 * {"server_version": 15,
 *  "tables": {"users": {"rows": 6000000,
 *                       "columns": {"id": {"type": "bigint", "nullable": false, "identity": "always"},
 *                                   "email": {"type": "text", "views": ["active_users"]},
 *                                   "domain": {"type": "text", "generated": true, "reads": ["email"]}},
 *                       "primary_key": ["id"],
 *                       "indexes": {"idx_email": {"columns": ["email"], "unique": true, "valid": true}},
 *                       "constraints": {"users_email_check": {"type": "check", "definition": "CHECK (email &lt;&gt; '')"}}}},
 *  "schemas": {"tenant_a": {"accounts": {"rows": 10, "columns": {"id": {"type": "bigint"}}, "primary_key": ["id"]}}},
 *  "other_relations": ["users_id_seq"]}
 * </pre>
 * A partitioned table has {@code "partition_by": ["region"]} (null, or {@code {"expression": "lower(email)"}},
 * for an expression in the key), each
 * partition {@code "partition_of": "sales"}, an inheritance child {@code "inherits": "parent"} (or an
 * array); a parent in "schemas" is named {@code "tenant_a.sales"}.
 * "tables" are what an unqualified name means; "schemas" holds tables a request names with its
 * {@code schema} field ({@code tenant_a.accounts} is another table than {@code accounts}).
 * A primary key without an index of its own gets {@code <table>_pkey}, as PostgreSQL names it.
 */
public final class SchemaFile {

    private SchemaFile() {
    }

    /** The schema in the file; a file that is not one is an IllegalArgumentException saying where. */
    public static Schema read(Path file) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": "
                    + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
        try {
            return parse(root);
        } catch (ZdmException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    public static Schema parse(JsonNode root) {
        object(root, "the schema", Set.of("server_version", "tables", "schemas", "other_relations"));
        Integer version = root.has("server_version") ? (int) number(root.get("server_version"), "server_version") : null;
        Map<SqlName, Schema.Table> tables = new LinkedHashMap<>();
        JsonNode tablesNode = root.path("tables");
        object(tablesNode, "tables", null);
        for (Iterator<Map.Entry<String, JsonNode>> it = tablesNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            tables.put(name(entry.getKey(), "tables"), table(entry.getValue(), "tables." + entry.getKey()));
        }
        if (root.has("schemas")) {
            object(root.get("schemas"), "schemas", null);
            for (Iterator<Map.Entry<String, JsonNode>> it = root.get("schemas").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> schema = it.next();
                String where = "schemas." + schema.getKey();
                name(schema.getKey(), "schemas");
                object(schema.getValue(), where, null);
                for (Iterator<Map.Entry<String, JsonNode>> t = schema.getValue().fields(); t.hasNext(); ) {
                    Map.Entry<String, JsonNode> entry = t.next();
                    SqlName table = name(entry.getKey(), where);
                    tables.put(SqlName.table(schema.getKey(), table.value()),
                            table(entry.getValue(), where + "." + entry.getKey()));
                }
            }
        }
        Set<SqlName> others = new LinkedHashSet<>();
        if (root.has("other_relations")) {
            for (JsonNode n : root.get("other_relations")) {
                others.add(name(n.asText(), "other_relations"));
            }
        }
        for (Map.Entry<SqlName, Schema.Table> t : tables.entrySet()) {
            for (SqlName parent : t.getValue().lineage().parents()) {
                Schema.Table p = tables.get(parent);
                require(p != null, "table " + t.getKey() + ": its parent " + parent + " is not in the schema");
                require(!t.getValue().lineage().partition() || p.lineage().partitioned(),
                        "table " + t.getKey() + ": partition_of " + parent + ", which has no partition_by");
                require(t.getValue().lineage().partition() || !p.lineage().partitioned(),
                        "table " + t.getKey() + ": inherits " + parent + ", a partitioned table (use partition_of)");
            }
        }
        return new Schema(version, tables, others);
    }

    private static Schema.Table table(JsonNode node, String where) {
        object(node, where, Set.of("rows", "columns", "primary_key", "indexes", "constraints",
                "partition_by", "partition_of", "inherits"));
        long rows = node.has("rows") ? number(node.get("rows"), where + ".rows") : 0;
        Map<SqlName, Schema.Column> columns = new LinkedHashMap<>();
        JsonNode columnsNode = node.path("columns");
        object(columnsNode, where + ".columns", null);
        for (Iterator<Map.Entry<String, JsonNode>> it = columnsNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> c = it.next();
            String at = where + ".columns." + c.getKey();
            object(c.getValue(), at, Set.of("type", "default", "nullable", "identity", "generated", "reads", "views"));
            if (!c.getValue().path("type").isTextual()) {
                throw ZdmException.malformed(at + ".type: a type name is required");
            }
            DataType type = DataType.of(c.getValue().get("type").asText());
            String defaultSql = c.getValue().hasNonNull("default") ? c.getValue().get("default").asText() : null;
            ColumnGeneration generation = generation(c.getValue(), at);
            List<SqlName> reads = c.getValue().has("reads") ? names(c.getValue().get("reads"), at + ".reads") : List.of();
            require(reads.isEmpty() || generation == ColumnGeneration.GENERATED,
                    at + ".reads: the columns a generated column's expression reads; this column is not generated");
            List<SqlName> views = c.getValue().has("views") ? names(c.getValue().get("views"), at + ".views") : List.of();
            columns.put(name(c.getKey(), at), new Schema.Column(type, defaultSql,
                    bool(c.getValue(), "nullable", true, at), generation, reads, views));
        }
        List<SqlName> primaryKey = node.has("primary_key") ? names(node.get("primary_key"), where + ".primary_key") : List.of();
        for (SqlName key : primaryKey) {
            require(columns.containsKey(key), where + ".primary_key: no column " + key);
        }
        Map<SqlName, Schema.Index> indexes = new LinkedHashMap<>();
        if (node.has("indexes")) {
            object(node.get("indexes"), where + ".indexes", null);
            for (Iterator<Map.Entry<String, JsonNode>> it = node.get("indexes").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> i = it.next();
                String at = where + ".indexes." + i.getKey();
                object(i.getValue(), at, Set.of("columns", "unique", "valid"));
                List<SqlName> on = names(i.getValue().path("columns"), at + ".columns");
                indexes.put(name(i.getKey(), at), new Schema.Index(on, bool(i.getValue(), "unique", false, at),
                        bool(i.getValue(), "valid", true, at)));
            }
        }
        Map<SqlName, Schema.Constraint> constraints = new LinkedHashMap<>();
        if (node.has("constraints")) {
            object(node.get("constraints"), where + ".constraints", null);
            for (Iterator<Map.Entry<String, JsonNode>> it = node.get("constraints").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> c = it.next();
                String at = where + ".constraints." + c.getKey();
                object(c.getValue(), at, Set.of("type", "definition", "validated"));
                String type = c.getValue().path("type").asText("");
                require(Set.of("check", "unique", "primary_key", "foreign_key", "exclusion").contains(type),
                        at + ".type: one of check, unique, primary_key, foreign_key, exclusion");
                constraints.put(name(c.getKey(), at), new Schema.Constraint(type,
                        c.getValue().path("definition").asText(null), bool(c.getValue(), "validated", true, at)));
            }
        }
        return new Schema.Table(rows, columns, primaryKey, indexes, constraints, lineage(node, columns.keySet(), where));
    }

    /**
     * "partition_by": the key's columns, null for an expression ({@code ["region", null]}) or the
     * expression itself ({@code [{"expression": "lower(email)"}]}, whose columns a set may not assign);
     * "partition_of": the parent's name; "inherits": one parent's name or an array of them. A parent is
     * named as a table of "tables" ({@code "sales"}) or of "schemas" ({@code "tenant_a.sales"}); the
     * children follow from these links ({@link Schema}).
     */
    private static dev.zdm.pg.Lineage lineage(JsonNode node, Set<SqlName> columns, String where) {
        List<SqlName> key = null;
        List<String> keyExpressions = new ArrayList<>();
        if (node.has("partition_by")) {
            JsonNode by = node.get("partition_by");
            require(by.isArray() && !by.isEmpty(), where + ".partition_by: a non-empty array of column names (null: an expression)");
            key = new ArrayList<>();
            for (JsonNode n : by) {
                if (n.isNull()) {
                    key.add(null);
                    continue;
                }
                if (n.isObject()) {
                    require(n.path("expression").isTextual() && n.size() == 1, where
                            + ".partition_by: an element is a column name, null, or {\"expression\": \"lower(email)\"}");
                    key.add(null);
                    keyExpressions.add(n.get("expression").asText());
                    continue;
                }
                SqlName column = name(n.asText(), where + ".partition_by");
                require(columns.contains(column), where + ".partition_by: no column " + column);
                key.add(column);
            }
        }
        require(!(node.has("partition_of") && node.has("inherits")),
                where + ": a table is a partition (partition_of) or inherits, not both");
        List<SqlName> parents = new ArrayList<>();
        if (node.has("partition_of")) {
            require(node.get("partition_of").isTextual(), where + ".partition_of: a table name");
            parents.add(tableName(node.get("partition_of").asText(), where + ".partition_of"));
        } else if (node.has("inherits")) {
            JsonNode inherits = node.get("inherits");
            for (JsonNode n : inherits.isArray() ? inherits : List.of(inherits)) {
                require(n.isTextual(), where + ".inherits: a table name or an array of them");
                parents.add(tableName(n.asText(), where + ".inherits"));
            }
        }
        return key == null && parents.isEmpty() ? null
                : new dev.zdm.pg.Lineage(parents, node.has("partition_of"), key, List.of(), false,
                dev.zdm.pg.Lineage.columnsIn(String.join(", ", keyExpressions), columns));
    }

    /** "schema.table" names a table of "schemas", a name without a dot one of "tables". */
    private static SqlName tableName(String text, String where) {
        int dot = text.indexOf('.');
        return dot < 0 ? name(text, where) : SqlName.table(name(text.substring(0, dot), where).value(),
                name(text.substring(dot + 1), where).value());
    }

    /** "identity": "always" or "by_default"; "generated": true (GENERATED ALWAYS AS (...)); at most one of them. */
    private static ColumnGeneration generation(JsonNode column, String where) {
        boolean generated = bool(column, "generated", false, where);
        if (!column.has("identity")) {
            return generated ? ColumnGeneration.GENERATED : ColumnGeneration.NONE;
        }
        String identity = column.get("identity").asText("");
        require(identity.equals("always") || identity.equals("by_default"), where + ".identity: always or by_default");
        require(!generated, where + ": a column is an identity column or a generated one, not both");
        return identity.equals("always") ? ColumnGeneration.IDENTITY_ALWAYS : ColumnGeneration.IDENTITY_BY_DEFAULT;
    }

    private static void object(JsonNode node, String where, Set<String> allowed) {
        require(node != null && node.isObject(), where + ": an object is expected");
        if (allowed != null) {
            node.fieldNames().forEachRemaining(k -> require(allowed.contains(k), where + ": unknown key '" + k
                    + "' (known: " + String.join(", ", allowed.stream().sorted().toList()) + ")"));
        }
    }

    private static long number(JsonNode node, String where) {
        require(node.canConvertToLong() && node.isIntegralNumber() && node.asLong() >= 0, where + ": a whole number >= 0");
        return node.asLong();
    }

    private static boolean bool(JsonNode node, String key, boolean fallback, String where) {
        if (!node.has(key)) {
            return fallback;
        }
        require(node.get(key).isBoolean(), where + "." + key + ": true or false");
        return node.get(key).asBoolean();
    }

    private static List<SqlName> names(JsonNode node, String where) {
        require(node.isArray() && !node.isEmpty(), where + ": a non-empty array of column names");
        List<SqlName> names = new ArrayList<>();
        for (JsonNode n : node) {
            names.add(name(n.asText(), where));
        }
        return names;
    }

    private static SqlName name(String text, String where) {
        try {
            return new SqlName(text);
        } catch (ZdmException e) {
            throw ZdmException.malformed(where + ": '" + text + "' is not an SQL name: " + e.getMessage());
        }
    }

    private static void require(boolean ok, String problem) {
        if (!ok) {
            throw ZdmException.malformed(problem);
        }
    }
}
