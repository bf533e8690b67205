package dev.zdm.postgres.ledger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * An operation's identity: the SHA-256 of its normalized request and the OID of its table, as text
 * for the ledger's row and its first 8 bytes as the key of the session advisory lock that makes one
 * backend its owner. The OID, not the name, says which table: {@code accounts} is another table in
 * each tenant's schema, and the same request on each is another operation.
 */
public record Fingerprint(String hex, long lockKey) {

    /** The fingerprint a ledger row holds. */
    public static Fingerprint ofHex(String hex) {
        return new Fingerprint(hex, Long.parseUnsignedLong(hex.substring(0, 16), 16));
    }

    /** The operation {@code identity} on the table of that OID (0: no such table, so the request will answer 20). */
    public static Fingerprint of(String identity, long tableOid) {
        return of("table_oid=" + tableOid + ";" + identity);
    }

    public static Fingerprint of(String identity) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
            long key = 0;
            for (int i = 0; i < 8; i++) {
                key = (key << 8) | (digest[i] & 0xff);
            }
            return new Fingerprint(HexFormat.of().formatHex(digest), key);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }
}
