package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.NotNullSteps;
import dev.zdm.pg.ServerVersion;
import java.sql.Connection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The catalogue's operations on a real server: the catalog after each, the locks observed, the
 * refusals PostgreSQL would make told before anything runs, and the undo when a later step's lock is
 * held by an application transaction.
 */
class CatalogueTest extends OnEmbeddedPostgres {

    private static ObjectNode send(String json) {
        return node.send(json);
    }

    /** What the safe NOT NULL adds is named as PostgreSQL names it: a CHECK's name before 18, the NOT NULL's from 18. */
    private static String notNullLabel() {
        return NotNullSteps.label(new ServerVersion((int) SharedPostgres.number(
                "SELECT current_setting('server_version_num')::int / 10000")));
    }

    @Test
    void dropIndexConcurrentlyDropsItUnderShareUpdateExclusive() {
        SharedPostgres.table("cat_di", 1_000);
        SharedPostgres.exec("CREATE INDEX cat_di_email ON cat_di (email)");

        ObjectNode reply = send("""
                {"type":"drop_index","index":"cat_di_email","explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_dropped");
        assertThat(reply.get("index").asText()).isEqualTo("cat_di_email");
        assertThat(reply.get("table_locked").asBoolean()).isFalse();
        // The drop holds its lock for an instant the observer's polls may not catch; never a blocking one.
        assertThat(reply.get("observed").get("strongest_lock").asText()).isIn("SHARE UPDATE EXCLUSIVE", "none seen");
        assertThat(reply.get("steps").get(0).get("lock").asText()).isEqualTo("SHARE UPDATE EXCLUSIVE");
        assertThat(SharedPostgres.text("SELECT to_regclass('cat_di_email')::text")).isNull();
    }

    @Test
    void dropIndexConcurrentlyWaitsForAnOpenWriterAndAnswers14WithinItsBudget() {
        SharedPostgres.table("cat_diw", 100);
        SharedPostgres.exec("CREATE INDEX cat_diw_email ON cat_diw (email)");
        send("""
                {"type":"open_transaction","session":"diw_writer","table":"cat_diw","mode":"ROW EXCLUSIVE"}""");
        ObjectNode reply;
        try {
            reply = send("""
                    {"type":"drop_index","index":"cat_diw_email","max_lock_duration_ms":300}""");
        } finally {
            send("""
                    {"type":"close_transaction","session":"diw_writer"}""");
        }
        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
        assertThat(reply.get("blocked_by").toString()).contains("diw_writer");
        assertThat(reply.get("attempts").asInt()).isPositive();
        assertThat(SharedPostgres.text("SELECT to_regclass('cat_diw_email')::text")).isEqualTo("cat_diw_email");
        assertThat(send("""
                {"type":"drop_index","index":"cat_diw_email"}""").get("type").asText()).isEqualTo("index_dropped");
    }

    @Test
    void anIndexThatBacksAKeyIsRefusedNamingIt() {
        SharedPostgres.table("cat_dk", 10);

        ObjectNode reply = send("""
                {"type":"drop_index","index":"cat_dk_pkey"}""");

        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(22);
        assertThat(reply.get("text").asText()).contains("cat_dk_pkey").contains("primary key");
        assertThat(SharedPostgres.text("SELECT to_regclass('cat_dk_pkey')::text")).isEqualTo("cat_dk_pkey");
        assertThat(send("""
                {"type":"drop_index","index":"cat_no_such_index"}""").get("code").asInt()).isEqualTo(20);
    }

    @Test
    void setAndDropDefaultChangeTheCatalogOnly() {
        SharedPostgres.table("cat_def", 100);
        long file = SharedPostgres.number("SELECT relfilenode FROM pg_class WHERE relname = 'cat_def'");

        ObjectNode set = send("""
                {"type":"set_default","table":"cat_def","column":"name","default":"nobody"}""");

        assertThat(set.get("type").asText()).as(set.toString()).isEqualTo("default_set");
        assertThat(set.get("table_locked").asBoolean()).isFalse();
        assertThat(SharedPostgres.text("SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef d JOIN pg_attribute a"
                + " ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE a.attrelid = 'cat_def'::regclass"
                + " AND a.attname = 'name'")).isEqualTo("'nobody'::text");
        // The rows there keep their values.
        assertThat(SharedPostgres.number("SELECT count(*) FROM cat_def WHERE name = 'nobody'")).isZero();

        ObjectNode sql = send("""
                {"type":"set_default","table":"cat_def","column":"email","default_sql":"'x' || random()::text"}""");
        assertThat(sql.get("type").asText()).as(sql.toString()).isEqualTo("default_set");
        assertThat(SharedPostgres.number("SELECT relfilenode FROM pg_class WHERE relname = 'cat_def'")).isEqualTo(file);

        ObjectNode drop = send("""
                {"type":"drop_default","table":"cat_def","column":"name"}""");
        assertThat(drop.get("type").asText()).as(drop.toString()).isEqualTo("default_dropped");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid"
                + " AND a.attnum = d.adnum WHERE a.attrelid = 'cat_def'::regclass AND a.attname = 'name'")).isZero();
        assertThat(send("""
                {"type":"set_default","table":"cat_def","column":"missing","default":1}""").get("code").asInt())
                .isEqualTo(20);
    }

    @Test
    void dropNotNullAndThePrimaryKeysRefusal() {
        SharedPostgres.table("cat_dnn", 10);

        ObjectNode reply = send("""
                {"type":"drop_not_null","table":"cat_dnn","column":"n"}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("not_null_dropped");
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'cat_dnn'::regclass"
                + " AND attname = 'n'")).isEqualTo("false");
        ObjectNode key = send("""
                {"type":"drop_not_null","table":"cat_dnn","column":"id"}""");
        assertThat(key.get("code").asInt()).as(key.toString()).isEqualTo(22);
        assertThat(key.get("text").asText()).contains("cat_dnn_pkey");
    }

    @Test
    void setNotNullTheSafeWayLeavesNoCheckAndNeverHoldsAccessExclusiveThroughTheScan() {
        SharedPostgres.table("cat_snn", 2_000);
        // A constraint already holds the name PostgreSQL would choose first: the next one is taken.
        String label = notNullLabel();
        SharedPostgres.exec("ALTER TABLE cat_snn ADD CONSTRAINT cat_snn_email_" + label + " CHECK (email <> '')");

        ObjectNode reply = send("""
                {"type":"set_not_null","table":"cat_snn","column":"email","explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("not_null_set");
        assertThat(reply.get("table_locked").asBoolean()).isFalse();
        assertThat(reply.get("table_rewritten").asBoolean()).isFalse();
        assertThat(reply.get("steps").get(0).get("sql").asText()).contains("\"cat_snn_email_" + label + "1\"");
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'cat_snn'::regclass"
                + " AND attname = 'email'")).isEqualTo("true");
        // Before 18 the CHECK is gone once SET NOT NULL trusted it; from 18 the NOT NULL constraint is it, validated.
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'cat_snn'::regclass"
                + " AND conname = 'cat_snn_email_" + label + "1' AND contype = 'n' AND convalidated"))
                .isEqualTo(label.equals("not_null") ? 1 : 0);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'cat_snn'::regclass"
                + " AND conname = 'cat_snn_email_" + label + "1' AND contype = 'c'")).isZero();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'cat_snn'::regclass"
                + " AND conname = 'cat_snn_email_" + label + "'")).isOne();
        // The scan ran under SHARE UPDATE EXCLUSIVE: the VALIDATE step's lock as observed.
        assertThat(reply.get("observed").get("steps").get(1).toString()).contains("SHARE UPDATE EXCLUSIVE");
    }

    @Test
    void setNotNullOverANullFailsWith22AndDropsItsCheck() {
        SharedPostgres.table("cat_snull", 100);
        SharedPostgres.exec("UPDATE cat_snull SET email = NULL WHERE id = 7");

        ObjectNode reply = send("""
                {"type":"set_not_null","table":"cat_snull","column":"email"}""");

        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(22);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'cat_snull'::regclass"
                + " AND contype = 'c'")).isZero();
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'cat_snull'::regclass"
                + " AND attname = 'email'")).isEqualTo("false");
    }

    @Test
    void addCheckIsAddedNotValidThenValidated() {
        SharedPostgres.table("cat_chk", 1_000);

        ObjectNode reply = send("""
                {"type":"add_constraint","table":"cat_chk","constraint":"cat_chk_email_at","constraint_type":"check",
                 "check":"email LIKE '%@%'","explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("constraint_added");
        assertThat(reply.get("constraint").asText()).isEqualTo("cat_chk_email_at");
        assertThat(reply.get("validated").asBoolean()).isTrue();
        assertThat(reply.get("table_locked").asBoolean()).isFalse();
        assertThat(SharedPostgres.text("SELECT convalidated::text FROM pg_constraint WHERE conname = 'cat_chk_email_at'"))
                .isEqualTo("true");
        assertThat(reply.get("observed").get("steps").get(1).toString()).contains("SHARE UPDATE EXCLUSIVE");

        assertThat(send("""
                {"type":"add_constraint","table":"cat_chk","constraint":"cat_chk_email_at","constraint_type":"check",
                 "check":"email <> ''"}""").get("code").asInt()).isEqualTo(21);
        assertThat(send("""
                {"type":"add_constraint","table":"cat_chk","constraint":"cat_chk_sub","constraint_type":"check",
                 "check":"id > (SELECT 1)"}""").get("code").asInt()).isEqualTo(12);
    }

    @Test
    void aCheckSomeRowBreaksFailsItsValidationAndIsDroppedAgain() {
        SharedPostgres.table("cat_bad", 100);

        ObjectNode reply = send("""
                {"type":"add_constraint","table":"cat_bad","constraint":"cat_bad_small","constraint_type":"check",
                 "check":"id < 50"}""");

        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(22);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conname = 'cat_bad_small'")).isZero();
    }

    @Test
    void validateConstraintValidatesOneAddedNotValid() {
        SharedPostgres.table("cat_val", 500);
        SharedPostgres.exec("ALTER TABLE cat_val ADD CONSTRAINT cat_val_n CHECK (n >= 0) NOT VALID");

        ObjectNode reply = send("""
                {"type":"validate_constraint","table":"cat_val","constraint":"cat_val_n"}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("constraint_validated");
        assertThat(reply.get("constraint").asText()).isEqualTo("cat_val_n");
        assertThat(SharedPostgres.text("SELECT convalidated::text FROM pg_constraint WHERE conname = 'cat_val_n'"))
                .isEqualTo("true");
        assertThat(send("""
                {"type":"validate_constraint","table":"cat_val","constraint":"cat_val_pkey"}""").get("code").asInt())
                .isEqualTo(22);
        assertThat(send("""
                {"type":"validate_constraint","table":"cat_val","constraint":"cat_val_none"}""").get("code").asInt())
                .isEqualTo(20);
    }

    @Test
    void aForeignKeyIsAddedNotValidThenValidatedAndLocksTheReferencedTableToo() {
        SharedPostgres.table("cat_parent", 100);
        SharedPostgres.exec("DROP TABLE IF EXISTS cat_child",
                "CREATE TABLE cat_child (id bigserial PRIMARY KEY, parent_id bigint, label text)",
                "INSERT INTO cat_child (parent_id) SELECT 1 + g % 100 FROM generate_series(1, 1000) g");

        ObjectNode reply = send("""
                {"type":"add_constraint","table":"cat_child","constraint":"cat_child_parent_fk","constraint_type":"foreign_key",
                 "columns":["parent_id"],"references":{"table":"cat_parent","columns":["id"]},"on_delete":"cascade",
                 "explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("constraint_added");
        assertThat(SharedPostgres.text("SELECT convalidated::text || ' ' || confdeltype::text FROM pg_constraint"
                + " WHERE conname = 'cat_child_parent_fk'")).isEqualTo("true c");
        assertThat(reply.get("steps").get(0).get("also_locks").toString()).contains("cat_parent")
                .contains("SHARE ROW EXCLUSIVE");
        assertThat(reply.get("notes").toString()).contains("create_index");

        ObjectNode noKey = send("""
                {"type":"add_constraint","table":"cat_child","constraint":"cat_child_label_fk","constraint_type":"foreign_key",
                 "columns":["label"],"references":{"table":"cat_parent","columns":["email"]}}""");
        assertThat(noKey.get("code").asInt()).as(noKey.toString()).isEqualTo(22);
        assertThat(noKey.get("text").asText()).contains("no unique constraint");

        SharedPostgres.exec("CREATE UNIQUE INDEX cat_parent_email ON cat_parent (email)");
        ObjectNode types = send("""
                {"type":"add_constraint","table":"cat_child","constraint":"cat_child_id_fk","constraint_type":"foreign_key",
                 "columns":["parent_id"],"references":{"table":"cat_parent","columns":["email"]}}""");
        assertThat(types.get("code").asInt()).as(types.toString()).isEqualTo(22);
        assertThat(types.get("text").asText()).contains("incompatible types");
        ObjectNode byUniqueIndex = send("""
                {"type":"add_constraint","table":"cat_child","constraint":"cat_child_label_fk","constraint_type":"foreign_key",
                 "columns":["label"],"references":{"table":"cat_parent","columns":["email"]}}""");
        assertThat(byUniqueIndex.get("type").asText()).as(byUniqueIndex.toString()).isEqualTo("constraint_added");
    }

    @Test
    void aWriterOnTheReferencedTableStopsTheForeignKeyWithinTheBudget() {
        SharedPostgres.table("cat_p3", 10);
        SharedPostgres.exec("DROP TABLE IF EXISTS cat_c3", "CREATE TABLE cat_c3 (id bigserial PRIMARY KEY, parent_id bigint)");
        send("""
                {"type":"open_transaction","session":"parent_writer","table":"cat_p3","mode":"ROW EXCLUSIVE"}""");
        ObjectNode reply;
        try {
            reply = send("""
                    {"type":"add_constraint","table":"cat_c3","constraint":"cat_c3_fk","constraint_type":"foreign_key",
                     "columns":["parent_id"],"references":{"table":"cat_p3","columns":["id"]},"max_lock_duration_ms":400}""");
        } finally {
            send("""
                    {"type":"close_transaction","session":"parent_writer"}""");
        }
        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
        assertThat(reply.get("table").asText()).isEqualTo("cat_c3");
        assertThat(reply.get("blocked_by").toString()).contains("parent_writer");
        assertThat(reply.get("rolled_back").asBoolean()).isTrue();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conname = 'cat_c3_fk'")).isZero();
    }

    @Test
    void aUniqueConstraintIsItsIndexBuiltConcurrentlyThenAttached() {
        SharedPostgres.table("cat_uq", 2_000);

        ObjectNode reply = send("""
                {"type":"add_constraint","table":"cat_uq","constraint":"cat_uq_email_key","constraint_type":"unique",
                 "columns":["email"],"explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("constraint_added");
        assertThat(reply.get("table_locked").asBoolean()).isFalse();
        assertThat(reply.get("steps").get(0).get("sql").asText()).startsWith("CREATE UNIQUE INDEX CONCURRENTLY");
        assertThat(SharedPostgres.text("SELECT c.contype::text || ' ' || i.relname FROM pg_constraint c"
                + " JOIN pg_class i ON i.oid = c.conindid WHERE c.conname = 'cat_uq_email_key'"))
                .isEqualTo("u cat_uq_email_key");
        // The key's index is the constraint's: dropping the index alone is refused.
        assertThat(send("""
                {"type":"drop_index","index":"cat_uq_email_key"}""").get("code").asInt()).isEqualTo(22);
    }

    @Test
    void aDuplicateFailsTheKeyWith22AndLeavesNoIndex() {
        SharedPostgres.table("cat_dup", 500);
        SharedPostgres.exec("UPDATE cat_dup SET email = 'same' WHERE id IN (3, 4)");

        ObjectNode reply = send("""
                {"type":"add_constraint","table":"cat_dup","constraint":"cat_dup_email_key","constraint_type":"unique",
                 "columns":["email"]}""");

        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(22);
        assertThat(SharedPostgres.text("SELECT to_regclass('cat_dup_email_key')::text")).isNull();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conname = 'cat_dup_email_key'")).isZero();
    }

    @Test
    void aPrimaryKeyOnNullableColumnsMakesThemNotNullTheSafeWayFirst() {
        SharedPostgres.exec("DROP TABLE IF EXISTS cat_pk",
                "CREATE TABLE cat_pk (code text, label text)",
                "INSERT INTO cat_pk SELECT 'c' || g, 'l' FROM generate_series(1, 1000) g");

        ObjectNode reply = send("""
                {"type":"add_constraint","table":"cat_pk","constraint":"cat_pk_pkey","constraint_type":"primary_key",
                 "columns":["code"],"explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("constraint_added");
        assertThat(reply.get("steps").get(0).get("sql").asText()).contains(notNullLabel().equals("check")
                ? "CHECK (\"code\" IS NOT NULL) NOT VALID" : "NOT NULL \"code\" NOT VALID");
        assertThat(SharedPostgres.text("SELECT contype::text FROM pg_constraint WHERE conname = 'cat_pk_pkey'")).isEqualTo("p");
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'cat_pk'::regclass"
                + " AND attname = 'code'")).isEqualTo("true");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'cat_pk'::regclass"
                + " AND contype = 'c'")).isZero();
        assertThat(send("""
                {"type":"add_constraint","table":"cat_pk","constraint":"cat_pk_other","constraint_type":"primary_key",
                 "columns":["label"]}""").get("code").asInt()).isEqualTo(22);
    }

    @Test
    void aUniqueIndexAnEarlierRunBuiltIsAttachedNotBuiltAgain() {
        SharedPostgres.table("cat_adopt", 100);
        // What a run that died between the build and USING INDEX leaves: the valid index, no constraint.
        SharedPostgres.exec("CREATE UNIQUE INDEX cat_adopt_email_key ON cat_adopt (email)");
        long oid = SharedPostgres.number("SELECT 'cat_adopt_email_key'::regclass::oid");

        ObjectNode reply = send("""
                {"type":"add_constraint","table":"cat_adopt","constraint":"cat_adopt_email_key","constraint_type":"unique",
                 "columns":["email"],"explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("constraint_added");
        assertThat(reply.get("steps")).hasSize(1);
        assertThat(SharedPostgres.number("SELECT conindid FROM pg_constraint WHERE conname = 'cat_adopt_email_key'"))
                .isEqualTo(oid);
    }

    @Test
    void dropConstraintNamesTheForeignKeysThatNeedAKeyAndCascadesOnlyWhenAsked() {
        SharedPostgres.table("cat_dcp", 10);
        SharedPostgres.exec("DROP TABLE IF EXISTS cat_dcc",
                "CREATE TABLE cat_dcc (id bigserial PRIMARY KEY, p bigint CONSTRAINT cat_dcc_p_fk REFERENCES cat_dcp (id))",
                "ALTER TABLE cat_dcp ADD CONSTRAINT cat_dcp_name_set CHECK (name <> '')");

        ObjectNode refused = send("""
                {"type":"drop_constraint","table":"cat_dcp","constraint":"cat_dcp_pkey"}""");
        assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(22);
        assertThat(refused.get("text").asText()).contains("cat_dcc_p_fk").contains("cat_dcc");

        ObjectNode check = send("""
                {"type":"drop_constraint","table":"cat_dcp","constraint":"cat_dcp_name_set"}""");
        assertThat(check.get("type").asText()).as(check.toString()).isEqualTo("constraint_dropped");
        assertThat(check.get("constraint").asText()).isEqualTo("cat_dcp_name_set");

        ObjectNode cascaded = send("""
                {"type":"drop_constraint","table":"cat_dcp","constraint":"cat_dcp_pkey","cascade":true}""");
        assertThat(cascaded.get("type").asText()).as(cascaded.toString()).isEqualTo("constraint_dropped");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conname IN ('cat_dcp_pkey',"
                + " 'cat_dcc_p_fk', 'cat_dcp_name_set')")).isZero();
        assertThat(SharedPostgres.text("SELECT to_regclass('cat_dcp_pkey')::text")).isNull();
        assertThat(send("""
                {"type":"drop_constraint","table":"cat_dcp","constraint":"cat_dcp_pkey"}""").get("code").asInt())
                .isEqualTo(20);
    }

    @Test
    void dropColumnNamesWhatUsesItAndNeverRewrites() {
        SharedPostgres.table("cat_dcol", 1_000);
        SharedPostgres.exec("CREATE INDEX cat_dcol_email ON cat_dcol (email)",
                "DROP VIEW IF EXISTS cat_dcol_v", "CREATE VIEW cat_dcol_v AS SELECT email FROM cat_dcol");
        long file = SharedPostgres.number("SELECT relfilenode FROM pg_class WHERE relname = 'cat_dcol'");

        ObjectNode refused = send("""
                {"type":"drop_column","table":"cat_dcol","column":"email"}""");
        assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(22);
        assertThat(refused.get("text").asText()).contains("index cat_dcol_email").contains("view cat_dcol_v");

        ObjectNode plain = send("""
                {"type":"drop_column","table":"cat_dcol","column":"name"}""");
        assertThat(plain.get("type").asText()).as(plain.toString()).isEqualTo("column_dropped");
        assertThat(plain.get("table_rewritten").asBoolean()).isFalse();
        assertThat(plain.get("table_locked").asBoolean()).isFalse();

        ObjectNode cascaded = send("""
                {"type":"drop_column","table":"cat_dcol","column":"email","cascade":true}""");
        assertThat(cascaded.get("type").asText()).as(cascaded.toString()).isEqualTo("column_dropped");
        assertThat(SharedPostgres.text("SELECT to_regclass('cat_dcol_v')::text")).isNull();
        assertThat(SharedPostgres.number("SELECT relfilenode FROM pg_class WHERE relname = 'cat_dcol'")).isEqualTo(file);
        assertThat(send("""
                {"type":"drop_column","table":"cat_dcol","column":"email"}""").get("code").asInt()).isEqualTo(20);
    }

    /** From 18 a NOT NULL is a constraint that depends on its column: it goes with the column, and is not named as a dependent. */
    @Test
    void aNotNullColumnDropsWithoutCascade() {
        SharedPostgres.table("cat_dnn", 100);

        ObjectNode reply = send("""
                {"type":"drop_column","table":"cat_dnn","column":"n"}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_dropped");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'cat_dnn'::regclass"
                + " AND attname = 'n' AND NOT attisdropped")).isZero();
    }

    /**
     * From 18 a NOT NULL added NOT VALID (a crash between zdm's two steps, or the user's own) already sets
     * attnotnull; SET NOT NULL would validate it by a scan under ACCESS EXCLUSIVE, so it is validated instead.
     */
    @Test
    void aNotValidNotNullIsValidatedNotScannedUnderAccessExclusive() {
        Assumptions.assumeTrue(notNullLabel().equals("not_null"), "NOT NULL ... NOT VALID exists from PostgreSQL 18");
        SharedPostgres.table("cat_nvnn", 500);
        SharedPostgres.exec("ALTER TABLE cat_nvnn ADD CONSTRAINT cat_nvnn_mine NOT NULL email NOT VALID");

        ObjectNode reply = send("""
                {"type":"set_not_null","table":"cat_nvnn","column":"email","explain":true}""");

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("not_null_set");
        assertThat(reply.get("steps")).hasSize(1);
        assertThat(reply.get("steps").get(0).get("sql").asText())
                .isEqualTo("ALTER TABLE \"cat_nvnn\" VALIDATE CONSTRAINT \"cat_nvnn_mine\"");
        assertThat(reply.get("table_locked").asBoolean()).isFalse();
        assertThat(SharedPostgres.text("SELECT convalidated::text FROM pg_constraint WHERE conname = 'cat_nvnn_mine'"))
                .isEqualTo("true");
        ObjectNode validate = send("""
                {"type":"validate_constraint","table":"cat_nvnn","constraint":"cat_nvnn_mine"}""");
        assertThat(validate.get("type").asText()).as(validate.toString()).isEqualTo("constraint_validated");
    }

    /** Tables outside public, names that need quoting, a constraint name PostgreSQL would choose taken. */
    @Test
    void oddNamesInAnotherSchema() {
        SharedPostgres.exec("CREATE SCHEMA IF NOT EXISTS \"Cat Shop\"",
                "DROP TABLE IF EXISTS \"Cat Shop\".\"Line Items\"", "DROP TABLE IF EXISTS \"Cat Shop\".\"Orders\"",
                "CREATE TABLE \"Cat Shop\".\"Orders\" (\"Id\" bigint PRIMARY KEY)",
                "INSERT INTO \"Cat Shop\".\"Orders\" SELECT g FROM generate_series(1, 10) g",
                "CREATE TABLE \"Cat Shop\".\"Line Items\" (id bigserial PRIMARY KEY, \"Order\" bigint, \"Qty\" int)",
                "INSERT INTO \"Cat Shop\".\"Line Items\" (\"Order\", \"Qty\") SELECT 1 + g % 10, g FROM generate_series(1, 100) g",
                "ALTER TABLE \"Cat Shop\".\"Line Items\" ADD CONSTRAINT \"Line Items_Qty_" + notNullLabel() + "\" CHECK (\"Qty\" > 0)");

        ObjectNode notNull = send("""
                {"type":"set_not_null","schema":"Cat Shop","table":"Line Items","column":"Qty","explain":true}""");
        assertThat(notNull.get("type").asText()).as(notNull.toString()).isEqualTo("not_null_set");
        assertThat(notNull.get("steps").get(0).get("sql").asText()).contains("\"Line Items_Qty_" + notNullLabel() + "1\"");
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = '\"Cat Shop\".\"Line Items\"'::regclass"
                + " AND attname = 'Qty'")).isEqualTo("true");

        ObjectNode fk = send("""
                {"type":"add_constraint","schema":"Cat Shop","table":"Line Items","constraint":"Line Items → Orders",
                 "constraint_type":"foreign_key","columns":["Order"],"references":{"table":"Orders","columns":["Id"]}}""");
        assertThat(fk.get("type").asText()).as(fk.toString()).isEqualTo("constraint_added");
        assertThat(SharedPostgres.text("SELECT convalidated::text FROM pg_constraint WHERE conname = 'Line Items → Orders'"))
                .isEqualTo("true");

        ObjectNode refused = send("""
                {"type":"drop_constraint","schema":"Cat Shop","table":"Orders","constraint":"Orders_pkey"}""");
        assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(22);
        assertThat(refused.get("text").asText()).contains("Line Items → Orders");
    }

    /**
     * Whatever holds a lock VALIDATE needs also stops the ADD before it, so the holder has to arrive in
     * between: a writer makes the ADD wait, a SHARE UPDATE EXCLUSIVE request queues behind it and is
     * granted when the ADD commits, and holds it past the VALIDATE's budget. The NOT VALID foreign key is
     * then dropped (newest first), once that holder has gone.
     */
    @Test
    void whenTheValidationCannotGetItsLockTheNotValidForeignKeyIsDropped() throws Exception {
        SharedPostgres.table("cat_p2", 100);
        SharedPostgres.exec("DROP TABLE IF EXISTS cat_c2",
                "CREATE TABLE cat_c2 (id bigserial PRIMARY KEY, parent_id bigint)",
                "INSERT INTO cat_c2 (parent_id) SELECT 1 + g % 100 FROM generate_series(1, 100) g");
        String add = """
                {"type":"add_constraint","table":"cat_c2","constraint":"cat_c2_fk","constraint_type":"foreign_key",
                 "columns":["parent_id"],"references":{"table":"cat_p2","columns":["id"]},"max_lock_duration_ms":1500}""";
        try (Connection writer = SharedPostgres.connect(); Connection validator = SharedPostgres.connect()) {
            writer.setAutoCommit(false);
            writer.createStatement().execute("LOCK TABLE cat_c2 IN ROW EXCLUSIVE MODE");
            CompletableFuture<ObjectNode> reply = CompletableFuture.supplyAsync(() -> node.send(add));
            awaitWaiters(1);
            CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> {
                try {
                    validator.setAutoCommit(false);
                    validator.createStatement().execute("LOCK TABLE cat_c2 IN SHARE UPDATE EXCLUSIVE MODE");
                    Thread.sleep(2_000);
                    validator.rollback();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitWaiters(2);
            writer.rollback();
            ObjectNode stopped = reply.get(30, TimeUnit.SECONDS);
            holder.get(30, TimeUnit.SECONDS);

            assertThat(stopped.get("code").asInt()).as(stopped.toString()).isEqualTo(14);
            assertThat(stopped.get("rolled_back").asBoolean()).as(stopped.toString()).isTrue();
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_constraint WHERE conname = 'cat_c2_fk'")).isZero();
        ObjectNode again = node.send(add);
        assertThat(again.get("type").asText()).as(again.toString()).isEqualTo("constraint_added");
        assertThat(SharedPostgres.text("SELECT convalidated::text FROM pg_constraint WHERE conname = 'cat_c2_fk'"))
                .isEqualTo("true");
    }

    private static void awaitWaiters(int waiters) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (SharedPostgres.number("SELECT count(*) FROM pg_locks WHERE relation = 'cat_c2'::regclass AND NOT granted")
                < waiters) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + waiters + " waiter(s) on cat_c2");
            }
            Thread.sleep(5);
        }
    }
}
