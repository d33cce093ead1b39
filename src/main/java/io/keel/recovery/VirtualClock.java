package io.keel.recovery;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A {@link Clock} that reads the virtual time of a {@link TaskQueue}, offset by a fixed epoch
 * so that instants look like real ones. MicroRaft reads time only through the clock it is
 * given, so a node on this clock sees time pass only as its queue runs.
 */
final class VirtualClock extends Clock {

  /** Epoch of virtual time zero: 2026-01-01T00:00:00Z. */
  static final long DEFAULT_EPOCH_MS = 1_767_225_600_000L;

  private final TaskQueue queue;
  private final long epochMs;

  VirtualClock(TaskQueue queue) {
    this(queue, DEFAULT_EPOCH_MS);
  }

  VirtualClock(TaskQueue queue, long epochMs) {
    this.queue = queue;
    this.epochMs = epochMs;
  }

  @Override
  public long millis() {
    return epochMs + queue.nowMs();
  }

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
      throw new IllegalArgumentException("a virtual clock is UTC only, was " + zone);
    }
    return this;
  }
}
