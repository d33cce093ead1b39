package io.keel.recovery;

/**
 * A {@link java.time.Clock} that reads the virtual time of a {@link TaskQueue}, offset by a
 * fixed epoch so that instants look like real ones. MicroRaft reads time only through the
 * clock it is given, so a node on this clock sees time pass only as its queue runs.
 */
final class VirtualClock extends UtcMillisClock {

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
}
