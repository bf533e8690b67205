package dev.zdm.pg;

/**
 * A column's DEFAULT as the server analyses it when ALTER TABLE adds the column or sets the default,
 * before any row: a constant must fit the type ({@link ConstantFit}), an expression may not read the
 * row or hold what a DEFAULT cannot ({@link ExpressionRefusals}).
 */
public final class DefaultCheck {

    private DefaultCheck() {
    }

    /** {@code type} null where the catalog does not know the column's type; a domain's constant is the server's to judge. */
    public static void check(ServerVersion version, CatalogView catalog, DataType type, ColumnDefault value) {
        if (value instanceof ColumnDefault.Expression e) {
            ExpressionRefusals.check(version, e.expression(), ExpressionRefusals.Place.DEFAULT);
            String sql = e.expression().text().strip();
            if (type != null && isConstant(sql)) {
                // A bare constant written as SQL is folded into the type at ALTER as `default`'s is.
                constant(version, catalog, type, sql);
            }
        } else if (value instanceof ColumnDefault.Constant c && type != null && !c.isNull()) {
            constant(version, catalog, type, c.sql());
        }
    }

    /**
     * A column's DEFAULT as CREATE TABLE analyses it: the same expressions refused, but a constant is
     * only read by its type's input function, without the type's modifier (an interval's excepted): the
     * length, precision or range of varchar(3), numeric(5,2), a smallint from a bare number, and a
     * domain's CHECK are applied by an expression the statement stores and does not run, so the server
     * takes 'abcdef' for a varchar(3) there and refuses the first row that uses it (seen on 15).
     */
    public static void atCreate(ServerVersion version, CatalogView catalog, DataType type, ColumnDefault value) {
        String sql;
        if (value instanceof ColumnDefault.Expression e) {
            ExpressionRefusals.check(version, e.expression(), ExpressionRefusals.Place.DEFAULT);
            sql = e.expression().text().strip();
            if (!isConstant(sql)) {
                return;
            }
        } else if (value instanceof ColumnDefault.Constant c && !c.isNull()) {
            sql = c.sql();
        } else {
            return;
        }
        if (type == null || catalog.domain(type).isPresent()) {
            // A domain's constant goes through its base type's input function, which only a server can name here.
            return;
        }
        DataType read = type.lookupName().equals("interval") || type.modifiers().isEmpty() ? type
                : new DataType(unbounded(type.lookupName()) + (type.isArray() ? "[]" : ""));
        if (SqlLiteral.valueOf(sql) == null) {
            // A bare number or boolean is a constant of its own type, cast by a function the statement does not
            // run: only a type no cast reaches is refused (42804).
            try {
                ConstantFit.check(version, read, sql);
            } catch (dev.zdm.protocol.ZdmException refused) {
                if (refused.code() == dev.zdm.protocol.ErrorCode.MALFORMED_REQUEST) {
                    throw refused;
                }
            }
            return;
        }
        constant(version, catalog, read, sql);
    }

    /**
     * The type's name as its input function reads a constant with no modifier: character and bit written
     * bare mean one character, one bit, but their input functions take any length without one.
     */
    private static String unbounded(String name) {
        return switch (name) {
            case "char", "character", "bpchar" -> "bpchar";
            case "bit" -> "bit varying";
            default -> name;
        };
    }

    /** A quoted literal, or a bare number or boolean: what {@link ConstantFit} reads. */
    private static boolean isConstant(String sql) {
        return SqlLiteral.valueOf(sql) != null || sql.equals("true") || sql.equals("false")
                || sql.matches("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?");
    }

    /**
     * A constant ({@code sql} as zdm wrote it) converted to {@code type}: judged here where zdm can, else
     * by the server's input function where the catalog can ask one.
     */
    public static void constant(ServerVersion version, CatalogView catalog, DataType type, String sql) {
        boolean domain = catalog.domain(type).isPresent();
        if (!domain && ConstantFit.check(version, type, sql)) {
            return;
        }
        String text = SqlLiteral.valueOf(sql);
        if (text == null && (sql.equals("true") || sql.equals("false") || sql.matches("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?"))) {
            // A bare number or boolean reaches the type as its text does.
            text = sql;
        }
        if (text != null) {
            catalog.constantRefusal(type, text).ifPresent(refusal -> {
                throw refusal;
            });
        }
    }
}
