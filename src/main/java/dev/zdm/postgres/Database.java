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
 *
 * <p><b>Credentials the PostgreSQL way.</b> pgjdbc itself reads the password file ({@code PGPASSFILE},
 * else ~/.pgpass) when no password is given, and a service file ({@code PGSERVICEFILE}, ~/.pg_service.conf,
 * {@code PGSYSCONFDIR}) for a URL's {@code service=}. What it does not read is filled here, as libpq
 * does: in the libpq form a part the URI leaves out comes from {@code PGHOST}, {@code PGPORT},
 * {@code PGDATABASE}, {@code PGUSER}, {@code PGSSLMODE} and {@code PGSERVICE} (so {@code postgres://}
 * alone is the environment's server), and in either form a password not in the URL is
 * {@code PGPASSWORD}'s (before ~/.pgpass, as in libpq). A service's settings beat the environment's, and
 * the URI's beat both. No password appears in {@link #toString()} or any message made here.
 */
public record Database(String jdbcUrl, Properties properties, String description) {

    /** Long enough for a server on the other side of the world, short enough that a typo fails fast. */
    static final int CONNECT_TIMEOUT_SECONDS = 10;

    public Database {
        properties = copy(properties);
    }

    /** The libpq environment variables read, those pgjdbc does not read itself. */
    static final java.util.List<String> ENVIRONMENT = java.util.List.of("PGHOST", "PGPORT", "PGDATABASE", "PGUSER",
            "PGPASSWORD", "PGSSLMODE", "PGSERVICE");

    public static Database parse(String url) {
        return parse(url, System.getenv());
    }

    /** As {@link #parse(String)}, with {@code env} standing for the process environment. */
    public static Database parse(String url, java.util.Map<String, String> env) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("no database URL");
        }
        if (url.startsWith("jdbc:postgresql:")) {
            Properties props = new Properties();
            String password = env.get("PGPASSWORD");
            if (password != null && !url.matches("(?is).*[?&]password=.*")) {
                // A URL password wins over this property in pgjdbc, as a conninfo password does in libpq.
                props.setProperty("password", password);
            }
            return new Database(url, props, withoutSecrets(url));
        }
        if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
            return fromUri(url, env);
        }
        throw new IllegalArgumentException("not a PostgreSQL URL (jdbc:postgresql://... or postgres://...): "
                + withoutSecrets(url));
    }

    private static Database fromUri(String url, java.util.Map<String, String> env) {
        URI uri;
        try {
            // postgres:// alone (everything from the environment) has no authority for java.net.URI.
            uri = new URI(url.replaceFirst("^(postgres(?:ql)?://)(?=$|\\?)", "$1/"));
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a valid URL: " + withoutSecrets(url));
        }
        String query = uri.getRawQuery() == null ? "" : uri.getRawQuery();
        boolean service = query.matches("(^|.*&)service=.*");
        if (!service && env.get("PGSERVICE") != null) {
            query = (query.isEmpty() ? "" : query + "&") + "service=" + encode(env.get("PGSERVICE"));
            service = true;
        }
        if (!query.matches("(^|.*&)sslmode=.*") && env.get("PGSSLMODE") != null) {
            query = (query.isEmpty() ? "" : query + "&") + "sslmode=" + encode(env.get("PGSSLMODE"));
        }
        // A service names its own server: only what the URI says beats it, not the environment (libpq's order).
        String host = uri.getHost() != null ? uri.getHost() : service ? "" : env.getOrDefault("PGHOST", "localhost");
        String port = uri.getPort() >= 0 ? Integer.toString(uri.getPort()) : service ? "" : env.getOrDefault("PGPORT", "5432");
        String db = uri.getPath() != null && uri.getPath().length() > 1 ? uri.getPath().substring(1)
                : service ? "" : env.getOrDefault("PGDATABASE", "postgres");
        if (host.startsWith("/")) {
            throw new IllegalArgumentException("PGHOST names a Unix socket directory (" + host + "); zdm connects"
                    + " over TCP: give a host name");
        }
        Properties props = new Properties();
        String user = env.get("PGUSER");
        String password = env.get("PGPASSWORD");
        if (uri.getRawUserInfo() != null) {
            String[] userPass = uri.getRawUserInfo().split(":", 2);
            user = decode(userPass[0]);
            if (userPass.length == 2) {
                password = decode(userPass[1]);
            }
        }
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        String hostPart = host.contains(":") ? "[" + host + "]" : host;
        String jdbc = "jdbc:postgresql://" + hostPart + (port.isEmpty() ? "" : ":" + port) + "/" + db
                + (query.isEmpty() ? "" : "?" + query);
        String where = host.isEmpty() && port.isEmpty() && db.isEmpty() ? "" : host + ":" + port + "/" + db;
        return new Database(jdbc, props, (where.isEmpty() ? "" : where)
                + (service ? (where.isEmpty() ? "" : " ") + "(service " + serviceName(query) + ")" : ""));
    }

    private static String serviceName(String query) {
        for (String pair : query.split("&")) {
            if (pair.startsWith("service=")) {
                return decode(pair.substring("service=".length()));
            }
        }
        return "";
    }

    private static String encode(String text) {
        return java.net.URLEncoder.encode(text, StandardCharsets.UTF_8);
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
