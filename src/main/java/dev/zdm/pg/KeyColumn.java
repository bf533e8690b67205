package dev.zdm.pg;

/**
 * A column of a key a job walks along: its name, and its type as the server formats it
 * ({@code format_type}, typmod included), which a position's text is cast to. {@code type} null: a type
 * zdm cannot write; the parameter is then left untyped and the server gives it the column's type.
 */
public record KeyColumn(SqlName name, DataType type) {
}
