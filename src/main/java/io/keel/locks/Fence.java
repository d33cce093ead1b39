package io.keel.locks;

import java.util.HashMap;
import java.util.Map;

/**
 * What a resource (a database row, a file, a map entry) uses to obey fenced locks: it accepts
 * an operation made under lock {@code name} only if the operation's token is at least the
 * highest token it has accepted for that lock. A holder that lost its lock (paused past its
 * lease, say) and comes back with an old token is refused, because the next holder's token is
 * larger and was seen first.
 *
 * <p>Thread-safe. Pure: no Vert.x, no I/O. The highest tokens live in memory; a resource that
 * must remember them across restarts stores them with its data.
 */
public final class Fence {
  private final Map<String, Long> highest = new HashMap<>();

  /**
   * Whether an operation under lock {@code name} with {@code token} may go ahead; if so,
   * {@code token} becomes the highest seen for {@code name}.
   */
  public synchronized boolean accept(String name, long token) {
    long seen = highest.getOrDefault(name, Long.MIN_VALUE);
    if (token < seen) {
      return false;
    }
    highest.put(name, token);
    return true;
  }

  /** The highest token accepted for {@code name}, or {@code Long.MIN_VALUE}. */
  public synchronized long highest(String name) {
    return highest.getOrDefault(name, Long.MIN_VALUE);
  }
}
