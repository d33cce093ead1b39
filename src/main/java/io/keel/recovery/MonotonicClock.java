package io.keel.recovery;

/**
 * A {@link java.time.Clock} that never jumps: the wall-clock time when it was made, advanced by
 * {@link System#nanoTime}. Partition groups run MicroRaft on it because a follower's promise
 * not to vote for another leader lasts a heartbeat timeout measured on this clock, and leader
 * leases ({@link LeaderLease}) rely on that promise: a wall clock set forward would cut it short.
 */
final class MonotonicClock extends UtcMillisClock {
  private final long originMs = System.currentTimeMillis();
  private final long originNanos = System.nanoTime();

  @Override
  public long millis() {
    return originMs + (System.nanoTime() - originNanos) / 1_000_000;
  }
}
