package io.keel.status;

import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The node's event sequence: each event gets the next sequence number and a timestamp, and the
 * most recent ones are kept (a bounded number) for new subscribers' snapshots. Single-threaded:
 * owned by the status verticle's context.
 */
final class EventFeed {
  private final int recentMax;
  private final ArrayDeque<JsonObject> recent = new ArrayDeque<>();
  // Invariant: seq is the sequence number of the last event stamped (0 before any).
  private long seq;

  EventFeed(int recentMax) {
    if (recentMax < 1) {
      throw new IllegalArgumentException("recentMax must be > 0, was " + recentMax);
    }
    this.recentMax = recentMax;
  }

  /** Stamps {@code event} with the next sequence number and {@code nowMs}, and keeps it. */
  JsonObject stamp(JsonObject event, long nowMs) {
    JsonObject e = event.copy().put("seq", ++seq).put("time", nowMs);
    recent.addLast(e);
    if (recent.size() > recentMax) {
      recent.removeFirst();
    }
    return e;
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
