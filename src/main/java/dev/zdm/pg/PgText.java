package dev.zdm.pg;

import dev.zdm.protocol.ZdmException;

/**
 * Text PostgreSQL can take: a text value cannot hold NUL (U+0000), and the UTF-8 it travels as
 * cannot encode a lone UTF-16 surrogate. Such input is the sender's error (12), caught here rather
 * than as a broken connection or a mangled value on the server.
 */
public final class PgText {

    private PgText() {
    }

    public static String require(String text, String what) {
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (ch == '\0') {
                throw ZdmException.malformed(what + " contains a NUL character (\\u0000), which PostgreSQL text cannot hold");
            }
            if (Character.isHighSurrogate(ch) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(ch)) {
                throw ZdmException.malformed(what + " contains a lone UTF-16 surrogate, which is not text");
            }
        }
        return text;
    }
}
