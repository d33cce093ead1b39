package io.keel.cli;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** Short readable forms of durations, sizes, times, partition lists and JSON values. */
final class Formats {
  private static final DateTimeFormatter CLOCK =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  private Formats() {}

  /** {@code 950ms}, {@code 8.2s}, {@code 3m12s}, {@code 2h05m}, {@code 3d04h}. */
  static String duration(long ms) {
    if (ms < 1_000) {
      return ms + "ms";
    }
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.1fs", ms / 1_000.0);
    }
    long s = ms / 1_000;
    if (s < 3_600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    if (s < 86_400) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3_600, s % 3_600 / 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh", s / 86_400, s % 86_400 / 3_600);
  }

  /** {@code 512 B}, {@code 1.2 KiB}, {@code 64.0 MiB}, {@code 1.5 GiB}. */
  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /** The wall-clock time of {@code epochMs} in this machine's zone, to the millisecond. */
  static String clock(long epochMs) {
    return CLOCK.format(Instant.ofEpochMilli(epochMs));
  }

  /**
   * Sorted numbers as runs, at most {@code runsMax} of them: {@code 0-5, 9, 12-15, ... (+40)}.
   * Keeps a list of 512 partitions to one line.
   */
  static String ranges(List<Integer> sorted, int runsMax) {
    StringBuilder out = new StringBuilder();
    int runs = 0;
    int i = 0;
    while (i < sorted.size()) {
      int j = i;
      while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) {
        j++;
      }
      if (runs == runsMax) {
        out.append(", ... (+").append(sorted.size() - i).append(')');
        break;
      }
      out.append(runs == 0 ? "" : ", ").append(sorted.get(i));
      if (j > i) {
        out.append('-').append(sorted.get(j));
      }
      runs++;
      i = j + 1;
    }
    return out.toString();
  }

  /**
   * How many locks a node's status says are held in the partitions it leads: its
   * {@code locksHeld}, or for a node that lists them all, the length of its list.
   */
  static long locksHeld(JsonObject status) {
    Long count = status.getLong("locksHeld");
    return count != null ? count : status.getJsonArray("locks", new JsonArray()).size();
  }

  /**
   * A JSON value as it reads best after {@code key=}: strings bare unless they hold spaces,
   * objects and arrays as compact JSON, null as {@code -}.
   */
  static String value(Object v) {
    if (v == null) {
      return "-";
    }
    if (v instanceof JsonObject o) {
      return o.encode();
    }
    if (v instanceof JsonArray a) {
      return a.encode();
    }
    String s = v.toString();
    return s.isEmpty() || s.chars().anyMatch(Character::isWhitespace) ? Json.encode(s) : s;
  }
}
