package io.keel.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test during which Keel logged an ERROR: an error log is a bug or an operator's
 * emergency, and neither should pass unnoticed in a green run. Registered for every test by
 * auto-detection ({@code junit-platform.properties}).
 */
public final class NoKeelErrors implements BeforeEachCallback, AfterEachCallback {
  private final List<ILoggingEvent> errors = new CopyOnWriteArrayList<>();
  private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
    @Override
    protected void append(ILoggingEvent e) {
      if (e.getLevel().isGreaterOrEqual(Level.ERROR) && e.getLoggerName().startsWith("io.keel")) {
        errors.add(e);
      }
    }
  };

  @Override
  public void beforeEach(ExtensionContext context) {
    errors.clear();
    appender.setContext(root().getLoggerContext());
    appender.start();
    root().addAppender(appender);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    root().detachAppender(appender);
    appender.stop();
    if (!errors.isEmpty()) {
      ILoggingEvent e = errors.get(0);
      throw new AssertionError(errors.size() + " ERROR log(s) from Keel during the test; first: "
          + e.getLoggerName() + " - " + e.getFormattedMessage());
    }
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
