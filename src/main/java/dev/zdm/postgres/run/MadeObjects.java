package dev.zdm.postgres.run;

import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.SqlName;
import dev.zdm.postgres.ledger.MadeObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** What a statement made, read back from the catalog by the name it gave, as PostgreSQL identifies it. */
final class MadeObjects {

    private MadeObjects() {
    }

    static Optional<MadeObject> of(Connection c, long tableOid, int step, CatalogChange change) throws SQLException {
        if (change instanceof CatalogChange.AddColumn add) {
            return number(c, "SELECT attnum FROM pg_attribute WHERE attrelid = ? AND attname = ? AND NOT attisdropped",
                    tableOid, add.column()).map(n -> MadeObject.column(step, add.column().value(), tableOid, n.intValue()));
        }
        if (change instanceof CatalogChange.AddNotNullCheck check) {
            return number(c, "SELECT oid FROM pg_constraint WHERE conrelid = ? AND conname = ?", tableOid,
                    check.constraint()).map(oid -> MadeObject.constraint(step, check.constraint().value(), tableOid, oid));
        }
        SqlName constraint = change instanceof CatalogChange.AddCheck check ? check.constraint()
                : change instanceof CatalogChange.AddForeignKey fk ? fk.constraint()
                : change instanceof CatalogChange.AddNotNullConstraint notNull ? notNull.constraint()
                : change instanceof CatalogChange.AddKeyUsingIndex key ? key.constraint() : null;
        if (constraint != null) {
            return number(c, "SELECT oid FROM pg_constraint WHERE conrelid = ? AND conname = ?", tableOid, constraint)
                    .map(oid -> MadeObject.constraint(step, constraint.value(), tableOid, oid));
        }
        if (change instanceof CatalogChange.CreateIndex create) {
            return indexOid(c, tableOid, create.index()).map(oid -> MadeObject.index(step, create.index().value(), tableOid, oid));
        }
        return Optional.empty();
    }

    /** The OID of the index of the table called {@code name} (an index lives in its table's schema). */
    static Optional<Long> indexOid(Connection c, long tableOid, SqlName name) throws SQLException {
        return number(c, "SELECT i.indexrelid FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid"
                + " WHERE i.indrelid = ? AND x.relname = ?", tableOid, name);
    }

    private static Optional<Long> number(Connection c, String sql, long tableOid, SqlName name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, tableOid);
            ps.setString(2, name.value());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        }
    }
}
