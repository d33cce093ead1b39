package io.keel.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The lines of a node's status feed ({@code /status/feed}) for {@code keel watch}: one per event
 * (time, sequence number, type, node, the other fields as {@code key=value}), a summary line
 * per snapshot, and notices where sequence numbers skip. Pure and single-threaded: owned by the
 * watch's event loop.
 *
 * <p>Implementation notes. The node numbers its events consecutively, so a skip is a loss. After
 * a reconnection the new snapshot's {@code seq} says how many events went by; those still in its
 * {@code recent} list are shown as if received, and only the rest are reported missed. A
 * snapshot from a restarted node (its start time, {@code time - status.uptimeMs}, moved by more
 * than {@value #RESTART_SKEW_MS} ms, or its {@code seq} went back) starts the count again. Example:
 * events 6 and 7 seen, the socket drops, the new snapshot has {@code seq} 11 and recent events
 * 9..11: "missed 1 event (seq 8)", then events 9, 10 and 11.
 */
final class FeedView {
  private static final Set<String> SHOWN_FIRST = Set.of("type", "seq", "time", "node");
  static final long RESTART_SKEW_MS = 2_000;

  /** What a line shows. */
  enum Kind { SNAPSHOT, EVENT, NOTICE }

  /** One line of output: a snapshot's, an event's, or a notice (a gap, a restart). */
  record Line(Kind kind, String text) {}

  private final boolean json;
  // Invariant: lastSeq is the seq of the last event or snapshot shown; -1 before the first.
  private long lastSeq = -1;
  // The node's start time by its last snapshot; null before one with time and uptimeMs.
  private Long startedAtMs;

  /** A view printing text lines, or with {@code json} each message as one JSON line. */
  FeedView(boolean json) {
    this.json = json;
  }

  /** The lines of {@code message}, a snapshot or an event, in order. */
  List<Line> accept(JsonObject message) {
    List<Line> lines = new ArrayList<>();
    if ("snapshot".equals(message.getString("type"))) {
      snapshot(message, lines);
    } else {
      event(message, lines);
    }
    return lines;
  }

  private void snapshot(JsonObject m, List<Line> lines) {
    long seq = m.getLong("seq", 0L);
    lines.add(new Line(Kind.SNAPSHOT, json ? m.encode() : snapshotLine(m)));
    Long started = startedAt(m);
    boolean restarted = started != null && startedAtMs != null
        && Math.abs(started - startedAtMs) > RESTART_SKEW_MS;
    startedAtMs = started;
    if (lastSeq >= 0 && (seq < lastSeq || restarted)) {
      lines.add(new Line(Kind.NOTICE, "the feed restarted at seq " + seq + " (was at " + lastSeq
          + "): the node restarted"));
    } else if (lastSeq >= 0) {
      for (Object o : m.getJsonArray("recent", new JsonArray())) {
        JsonObject e = (JsonObject) o;
        if (e.getLong("seq", 0L) > lastSeq) {
          event(e, lines);
        }
      }
      gap(seq + 1, lines);
    }
    lastSeq = seq;
  }

  private void event(JsonObject e, List<Line> lines) {
    long seq = e.getLong("seq", 0L);
    gap(seq, lines);
    if (lastSeq >= 0 && seq <= lastSeq) {
      lines.add(new Line(Kind.NOTICE, "the sequence went back from " + lastSeq + " to " + seq));
    }
    lastSeq = seq;
    if (json) {
      lines.add(new Line(Kind.EVENT, e.encode()));
      return;
    }
    StringBuilder rest = new StringBuilder();
    e.forEach(f -> {
      if (!SHOWN_FIRST.contains(f.getKey())) {
        rest.append(rest.length() == 0 ? "" : " ").append(f.getKey()).append('=')
            .append(Formats.value(f.getValue()));
      }
    });
    lines.add(new Line(Kind.EVENT, line(e.getLong("time"), seq, e.getString("type", "?"),
        e.getString("node", "?"), rest.toString())));
  }

  /** A notice when the event numbered {@code next} does not follow the last one seen. */
  private void gap(long next, List<Line> lines) {
    long missed = next - lastSeq - 1;
    if (lastSeq >= 0 && missed > 0) {
      String seqs = missed == 1 ? " event (seq " + (lastSeq + 1)
          : " events (seq " + (lastSeq + 1) + "-" + (next - 1);
      lines.add(new Line(Kind.NOTICE, "missed " + missed + seqs + ")"));
    }
  }

  private static Long startedAt(JsonObject snapshot) {
    Long time = snapshot.getLong("time");
    Long uptime = snapshot.getJsonObject("status", new JsonObject()).getLong("uptimeMs");
    return time == null || uptime == null ? null : time - uptime;
  }

  private static String snapshotLine(JsonObject m) {
    JsonObject status = m.getJsonObject("status", new JsonObject());
    String rest = "epoch=" + status.getValue("epoch") + " ready=" + status.getValue("ready")
        + " members=" + status.getJsonArray("members", new JsonArray()).size()
        + " partitions=" + status.getJsonArray("partitions", new JsonArray()).size()
        + " locks=" + Formats.locksHeld(status)
        + " recent=" + m.getJsonArray("recent", new JsonArray()).size();
    return line(m.getLong("time"), m.getLong("seq", 0L), "snapshot",
        status.getString("node", "?"), rest);
  }

  private static String line(Long time, long seq, String type, String node, String rest) {
    return (time == null ? "--:--:--.---" : Formats.clock(time)) + "  #"
        + String.format("%-5d", seq) + " " + String.format("%-15s", type) + " " + node
        + (rest.isEmpty() ? "" : "  " + rest);
  }
}
