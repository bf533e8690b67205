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
        } else if (value instanceof ColumnDefault.Constant c && type != null && !c.isNull()
                && catalog.domain(type).isEmpty()) {
            ConstantFit.check(version, type, c.sql());
        }
    }
}
