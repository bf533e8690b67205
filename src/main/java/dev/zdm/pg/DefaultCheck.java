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
