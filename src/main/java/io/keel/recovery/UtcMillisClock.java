package io.keel.recovery;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A UTC {@link Clock} defined by its {@link #millis()} alone: Keel's clocks (monotonic, virtual,
 * skewed for tests) differ only there.
 */
public abstract class UtcMillisClock extends Clock {

  @Override
  public abstract long millis();

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    if (!ZoneOffset.UTC.equals(zone)) {
      throw new IllegalArgumentException(getClass().getSimpleName() + " is UTC only, was "
          + zone);
    }
    return this;
  }
}
