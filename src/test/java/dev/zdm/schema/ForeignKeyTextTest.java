package dev.zdm.schema;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.SqlName;
import org.junit.jupiter.api.Test;

/** Foreign keys as pg_get_constraintdef prints them, read back into what the simulator's locks need. */
class ForeignKeyTextTest {

    @Test
    void quotedNamesASchemaAndTheUpdateAction() {
        ForeignKeyText fk = ForeignKeyText.parse("FOREIGN KEY (\"Cust Id\", b) REFERENCES other.\"My \"\"T\"\"\"(id, \"X\")"
                + " MATCH FULL ON UPDATE SET NULL ON DELETE CASCADE NOT VALID").orElseThrow();
        assertThat(fk.columns()).containsExactly(SqlName.of("Cust Id"), SqlName.of("b"));
        assertThat(fk.refTable()).isEqualTo(new SqlName("other", "My \"T\""));
        assertThat(fk.refColumns()).containsExactly(SqlName.of("id"), SqlName.of("X"));
        assertThat(fk.onUpdate()).isEqualTo(ConstraintInfo.Action.SET_NULL);
    }

    @Test
    void withoutAnActionItIsNoActionAndOtherConstraintsAreNotForeignKeys() {
        ForeignKeyText fk = ForeignKeyText.parse("FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE")
                .orElseThrow();
        assertThat(fk.refTable()).isEqualTo(SqlName.of("customers"));
        assertThat(fk.onUpdate()).isEqualTo(ConstraintInfo.Action.NO_ACTION);
        assertThat(ConstraintInfo.Action.CASCADE.lockOnReferencing().sqlName()).isEqualTo("ROW EXCLUSIVE");
        assertThat(ForeignKeyText.parse("CHECK ((n > 0))")).isEmpty();
        assertThat(ForeignKeyText.parse(null)).isEmpty();
    }
}
