package dev.zdm.postgres;

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
 * Where the server is: a JDBC URL and the properties that go with it. Accepts the JDBC form
 * ({@code jdbc:postgresql://host:port/db?user=u&password=p}) as it is, and the libpq URI form
 * ({@code postgres://user:pass@host:port/db}) translated, so a URL copied from a hosting provider works.
 */
public record Database(String jdbcUrl, Properties properties, String description) {

    /** Long enough for a server on the other side of the world, short enough that a typo fails fast. */
    static final int CONNECT_TIMEOUT_SECONDS = 10;

    public Database {
        properties = copy(properties);
    }

    public static Database parse(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("no database URL");
        }
        if (url.startsWith("jdbc:postgresql:")) {
            return new Database(url, new Properties(), withoutSecrets(url));
        }
        if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
            return fromUri(url);
        }
        throw new IllegalArgumentException("not a PostgreSQL URL (jdbc:postgresql://... or postgres://...): "
                + withoutSecrets(url));
    }

    private static Database fromUri(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a valid URL: " + withoutSecrets(url));
        }
        String host = uri.getHost() == null ? "localhost" : uri.getHost();
        int port = uri.getPort() < 0 ? 5432 : uri.getPort();
        String db = uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1);
        Properties props = new Properties();
        if (uri.getRawUserInfo() != null) {
            String[] userPass = uri.getRawUserInfo().split(":", 2);
            props.setProperty("user", decode(userPass[0]));
            if (userPass.length == 2) {
                props.setProperty("password", decode(userPass[1]));
            }
        }
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        String jdbc = "jdbc:postgresql://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + db + query;
        return new Database(jdbc, props, host + ":" + port + "/" + db);
    }

    /**
     * A new connection named {@code applicationName} in pg_stat_activity, so its backend can be told
     * apart, with zdm's own {@link SessionSettings}.
     */
    public Connection connect(String applicationName) throws SQLException {
        return connect(applicationName, new Properties());
    }

    /** As {@link #connect(String)}, with extra pgjdbc properties. */
    public Connection connect(String applicationName, Properties extra) throws SQLException {
        Properties props = copy(properties);
        props.putAll(extra);
        props.setProperty("ApplicationName", applicationName);
        props.putIfAbsent("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        props.putIfAbsent("tcpKeepAlive", "true");
        // No named server-side prepared statements: behind a session pooler a backend outlives the
        // client connection, and one left with S_1 would refuse the next client's S_1.
        props.putIfAbsent("prepareThreshold", "0");
        Connection c = DriverManager.getConnection(jdbcUrl, props);
        try {
            SessionSettings.apply(c, applicationName);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }

    /** The URL as it may appear in a log line: no password. */
    static String withoutSecrets(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***").replaceAll("(//[^/:@]*):[^@/]*@", "$1:***@");
    }

    private static Properties copy(Properties from) {
        Properties to = new Properties();
        if (from != null) {
            to.putAll(from);
        }
        return to;
    }

    @Override
    public String toString() {
        return description;
    }
}
