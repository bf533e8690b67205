package dev.zdm.protocol;

/**
 * Input echoed into a reply or a log line is cut short: a request may carry a megabyte in a name, and
 * neither the client nor the log needs more than its beginning to see what was wrong.
 */
public final class Text {

    /** Characters of any one piece of echoed input, and of an error reply's text. */
    public static final int MAX_ECHO = 1_000;

    private Text() {
    }

    public static String capped(String text) {
        if (text == null || text.length() <= MAX_ECHO) {
            return text;
        }
        return text.substring(0, MAX_ECHO) + "... (" + text.length() + " characters)";
    }
}
