package dev.zdm.pg;

import java.util.Set;

/**
 * Whether a foreign key can compare two column types (tablecmds.c, ATAddForeignKeyConstraint: an
 * equality operator of the key index's operator family, or an implicit cast of the referencing type
 * to the referenced one). Told apart here only where it is certain: numbers never compare with text
 * (42804, "incompatible types"); anything else is left to the server.
 */
public final class KeyTypes {

    private static final Set<String> NUMBERS = Set.of("smallint", "integer", "int", "int2", "int4", "int8", "bigint",
            "numeric", "decimal", "real", "double precision", "float4", "float8", "float");
    private static final Set<String> TEXTS = Set.of("text", "varchar", "character varying", "char", "character",
            "bpchar", "name");

    private KeyTypes() {
    }

    public static boolean comparable(DataType referencing, DataType referenced) {
        String a = base(referencing);
        String b = base(referenced);
        return !(NUMBERS.contains(a) && TEXTS.contains(b) || TEXTS.contains(a) && NUMBERS.contains(b));
    }

    private static String base(DataType type) {
        return type.sql().contains("[") ? type.sql() : type.sql().replaceAll("\\s*\\(.*", "").trim();
    }
}
