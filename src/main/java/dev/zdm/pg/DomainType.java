package dev.zdm.pg;

/**
 * A domain a column is declared with, as far as ADD COLUMN cares: its own default (pg_type.typdefault,
 * null when none) and whether that default is volatile, and whether it carries constraints (CHECK or
 * NOT NULL). ADD COLUMN rewrites the table for a volatile domain default, as for a volatile column
 * default, and for a constrained domain whatever the default (tablecmds.c, ATExecAddColumn: the
 * constraints are checked against every row by the rewrite).
 */
public record DomainType(String defaultSql, boolean defaultVolatile, boolean constrained) {
}
