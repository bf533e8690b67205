package dev.zdm.schema;

import dev.zdm.postgres.connect.SessionSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The server {@code --schema-from} reads: a JDBC URL as it is, or a libpq URI
 * ({@code postgres://user:pass@host:port/db}) translated to one.
 */
record SchemaSource(String jdbcUrl, Properties properties) {

    static SchemaSource parse(String url) {
        if (url.startsWith("jdbc:postgresql:")) {
            return new SchemaSource(url, new Properties());
        }
        if (!url.startsWith("postgres://") && !url.startsWith("postgresql://")) {
            throw new IllegalArgumentException("--schema-from needs jdbc:postgresql://... or postgres://...");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--schema-from: not a valid URL");
        }
        Properties props = new Properties();
        if (uri.getRawUserInfo() != null) {
            String[] userPass = uri.getRawUserInfo().split(":", 2);
            props.setProperty("user", URLDecoder.decode(userPass[0], StandardCharsets.UTF_8));
            if (userPass.length == 2) {
                props.setProperty("password", URLDecoder.decode(userPass[1], StandardCharsets.UTF_8));
            }
        }
        String host = uri.getHost() == null ? "localhost" : uri.getHost();
        int port = uri.getPort() < 0 ? 5432 : uri.getPort();
        String db = uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1);
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        return new SchemaSource("jdbc:postgresql://" + host + ":" + port + "/" + db + query, props);
    }

    Connection connect() throws SQLException {
        Properties props = new Properties();
        props.putAll(properties);
        props.setProperty("ApplicationName", "zdm-schema-reader");
        props.setProperty("connectTimeout", "10");
        props.setProperty("readOnly", "true");
        Connection c = DriverManager.getConnection(jdbcUrl, props);
        try {
            SessionSettings.apply(c, "zdm-schema-reader");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }
}
