package dev.zdm.schema;

import dev.zdm.postgres.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The server {@code --schema-from} reads, named as {@code --database} names one (a JDBC URL, or a libpq
 * URI with the libpq environment: see {@link Database}).
 */
record SchemaSource(Database database) {

    static SchemaSource parse(String url) {
        if (!url.startsWith("jdbc:postgresql:") && !url.startsWith("postgres://") && !url.startsWith("postgresql://")) {
            throw new IllegalArgumentException("--schema-from needs jdbc:postgresql://... or postgres://...");
        }
        return new SchemaSource(Database.parse(url));
    }

    Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("readOnly", "true");
        return database.connect("zdm-schema-reader", props);
    }
}
