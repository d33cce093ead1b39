package io.keel.status;

import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The node's event sequence: each event gets the next sequence number and a timestamp, and the
 * most recent ones are kept (a bounded number) for new subscribers' snapshots. Stamped events
 * wait to be sent in batches: one message, one event per line, at most once per
 * {@code batchMs}; a lone event goes at once. Single-threaded: owned by the status verticle's
 * context, which sends what {@link #take} gives when {@link #sendInMs} says.
 */
final class EventFeed {
  private final int recentMax;
  private final long batchMs;
  private final ArrayDeque<JsonObject> recent = new ArrayDeque<>();
  // Stamped events not yet taken, one encoded event per line.
  private final StringBuilder unsent = new StringBuilder();
  // Invariant: seq is the sequence number of the last event stamped (0 before any).
  private long seq;
  private long takenAtMs = Long.MIN_VALUE / 2;

  EventFeed(int recentMax, long batchMs) {
    if (recentMax < 1) {
      throw new IllegalArgumentException("recentMax must be > 0, was " + recentMax);
    }
    if (batchMs < 0) {
      throw new IllegalArgumentException("batchMs must be >= 0, was " + batchMs);
    }
    this.recentMax = recentMax;
    this.batchMs = batchMs;
  }

  /**
   * Stamps {@code event} with the next sequence number and {@code nowMs}, keeps it, and queues
   * it to be sent.
   */
  JsonObject stamp(JsonObject event, long nowMs) {
    JsonObject e = event.copy().put("seq", ++seq).put("time", nowMs);
    recent.addLast(e);
    if (recent.size() > recentMax) {
      recent.removeFirst();
    }
    unsent.append(unsent.length() == 0 ? "" : "\n").append(e.encode());
    return e;
  }

  /**
   * In how many ms the queued events are due at {@code nowMs}: 0 when the last batch went
   * {@code batchMs} or more ago, else the rest of that time.
   */
  long sendInMs(long nowMs) {
    return Math.max(0, takenAtMs + batchMs - nowMs);
  }

  /** The queued events as one message, one per line, or null if none; starts a new batch. */
  String take(long nowMs) {
    takenAtMs = nowMs;
    if (unsent.length() == 0) {
      return null;
    }
    String text = unsent.toString();
    unsent.setLength(0);
    return text;
  }

  /** The last sequence number stamped. */
  long seq() {
    return seq;
  }

  /** The kept events, oldest first. */
  List<JsonObject> recent() {
    return List.copyOf(recent);
  }
}
