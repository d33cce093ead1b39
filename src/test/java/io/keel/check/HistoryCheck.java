package io.keel.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Whole-run checks, weaker than linearizability but cheap at any size and easy to read: no
 * acknowledged write is lost by the end of the run, and versions never go back in real time.
 * Each method returns its violations as sentences, in key order; an empty list means none.
 */
public final class HistoryCheck {

  /**
   * What a key holds at the end of the run, read after every client stopped.
   *
   * @param value the value
   * @param version its version, {@code > 0}
   */
  public record Stored(String value, long version) {

    /** Checks the fields. */
    public Stored {
      Objects.requireNonNull(value, "value");
      if (version <= 0) {
        throw new IllegalArgumentException("version must be > 0, was " + version);
      }
    }
  }

  private HistoryCheck() {
  }

  /** Both checks: {@link #finalState} then {@link #versionOrder}. */
  public static List<String> all(List<Op> history, Map<String, Stored> finals) {
    List<String> out = new ArrayList<>(finalState(history, finals));
    out.addAll(versionOrder(history));
    return out;
  }

  /**
   * Checks that acknowledged writes survive the run. For each key: its final version is at least
   * the highest version an acknowledged put or cas got; if it equals an acknowledged write's
   * version, it holds that write's value; otherwise its value is one an indeterminate write
   * wrote (so the history must hold every write that may have taken effect). A key that ends
   * absent must have a delete (acknowledged or indeterminate) that may have come after its
   * latest acknowledged write.
   *
   * @param history the ops of the run, in any order
   * @param finals what each key holds at the end; a key not in the map is absent
   */
  public static List<String> finalState(List<Op> history, Map<String, Stored> finals) {
    Map<String, List<Op>> byKey = byKey(history);
    finals.keySet().forEach(k -> byKey.putIfAbsent(k, List.of()));
    List<String> out = new ArrayList<>();
    byKey.forEach((key, ops) -> finalState(key, ops, finals.get(key), out));
    return out;
  }

  /**
   * Checks that versions only grow in real time: if op A completed before op B was invoked, the
   * version B read is at least the one A read or wrote, and the version B wrote is above it (for
   * gets that found a value, and acknowledged puts and cas). Also checks that no two
   * acknowledged writes of one key got the same version.
   */
  public static List<String> versionOrder(List<Op> history) {
    List<String> out = new ArrayList<>();
    byKey(history).forEach((key, ops) -> versionOrder(key, ops, out));
    return out;
  }

  private static void finalState(String key, List<Op> ops, Stored end, List<String> out) {
    Op highest = null;
    Map<Long, Op> acked = new HashMap<>();
    for (Op op : ops) {
      if (op.outcome() == Op.Outcome.OK) {
        acked.put(op.version(), op);
        highest = highest == null || op.version() > highest.version() ? op : highest;
      }
    }
    if (end == null) {
      Op last = highest;
      if (last != null && ops.stream().noneMatch(o -> o.kind() == Op.Kind.DELETE
          && o.mayWrite() && !o.precedes(last))) {
        out.add("key " + key + ": absent at the end, but no delete could follow the "
            + "acknowledged " + last);
      }
      return;
    }
    if (highest != null && end.version() < highest.version()) {
      out.add("key " + key + ": final version " + end.version() + " is below the acknowledged "
          + highest);
    }
    Op same = acked.get(end.version());
    if (same != null && !same.value().equals(end.value())) {
      out.add("key " + key + ": final \"" + end.value() + "\" v" + end.version()
          + " differs from the acknowledged " + same);
    } else if (same == null && ops.stream().noneMatch(o -> o.indeterminate()
        && o.value() != null && o.value().equals(end.value()))) {
      out.add("key " + key + ": final \"" + end.value() + "\" v" + end.version()
          + " was not written by an indeterminate write nor acknowledged at that version");
    }
  }

  private static void versionOrder(String key, List<Op> ops, List<String> out) {
    List<Op> seen = ops.stream().filter(o -> o.version() > 0).toList();
    List<Op> byComplete = new ArrayList<>(seen);
    byComplete.sort(Comparator.comparingLong(Op::completeNanos));
    List<Op> byInvoke = new ArrayList<>(seen);
    byInvoke.sort(Comparator.comparingLong(Op::invokeNanos));
    int done = 0;
    Op max = null;
    for (Op b : byInvoke) {
      while (done < byComplete.size() && byComplete.get(done).precedes(b)) {
        Op a = byComplete.get(done++);
        max = max == null || a.version() > max.version() ? a : max;
      }
      boolean write = b.outcome() == Op.Outcome.OK;
      if (max != null && (write ? b.version() <= max.version() : b.version() < max.version())) {
        out.add("key " + key + ": version went back: " + b + " " + (write ? "wrote" : "read")
            + " v" + b.version() + " after " + max + " completed");
      }
    }
    Map<Long, Op> writes = new HashMap<>();
    for (Op op : seen) {
      Op other = op.outcome() == Op.Outcome.OK ? writes.putIfAbsent(op.version(), op) : null;
      if (other != null) {
        out.add("key " + key + ": two acknowledged writes got v" + op.version() + ": " + other
            + " and " + op);
      }
    }
  }

  private static Map<String, List<Op>> byKey(List<Op> history) {
    Map<String, List<Op>> byKey = new TreeMap<>();
    history.forEach(op -> byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op));
    return byKey;
  }
}
