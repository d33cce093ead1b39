package io.keel.check;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Checks that a history of the replicated map is linearizable: that there is one order of the
 * ops, consistent with real time (an op that completed before another was invoked comes first),
 * in which each op's answer is what a single atomic register would answer. Indeterminate ops
 * may take effect at any point after their invocation, or never (Knossos semantics).
 *
 * <p>Keys are independent registers, so a history is linearizable iff each key's sub-history
 * is (locality, Herlihy and Wing 1990; P-compositionality, Horn and Kroening 2015):
 * {@link #checkAll} checks each key alone, which keeps every search small. The search for one key is {@link Search}; the model is {@link
 * KeyState}, which treats the versions the map picks as "larger than any before" rather than as
 * predictable numbers. A search that exceeds its step budget answers {@link Verdict#UNKNOWN}
 * rather than running on.
 *
 * <pre>{@code
 * Result r = Linearizability.check(List.of(
 *     Op.put("c1", "k", "a", 0).ok(5, 10),
 *     Op.get("c2", "k", 20).notFound(30)));   // stale: the put completed before the get
 * r.verdict();      // NOT_LINEARIZABLE
 * r.explanation();  // the longest prefix placed, the state after it, and the ops that fail
 * }</pre>
 */
public final class Linearizability {

  /** Steps (attempts to place an op) allowed per key before the answer is UNKNOWN. */
  public static final long DEFAULT_STEPS_MAX = 1_000_000;

  /** The answer for one key. */
  public enum Verdict {
    /** A linearization exists; {@link Result#linearized} is one. */
    LINEARIZABLE,
    /** No linearization exists. */
    NOT_LINEARIZABLE,
    /** The search ran out of steps before deciding. */
    UNKNOWN
  }

  /**
   * The answer for one key.
   *
   * @param key the key
   * @param verdict the verdict
   * @param linearized a linearization if LINEARIZABLE, else the longest linearizable prefix
   *     found (the ops it places, in order; indeterminate ops left out never took effect)
   * @param unplaced if not LINEARIZABLE, the ops that could have come after that prefix, none of
   *     which led to a linearization (indeterminate ops that would have changed nothing there
   *     left out); empty otherwise
   * @param steps the steps the search took
   * @param explanation the verdict in words, with the prefix and the ops that fail after it
   */
  public record Result(String key, Verdict verdict, List<Op> linearized, List<Op> unplaced,
      long steps, String explanation) {

    /** Whether the verdict is {@link Verdict#LINEARIZABLE}. */
    public boolean linearizable() {
      return verdict == Verdict.LINEARIZABLE;
    }
  }

  private Linearizability() {
  }

  /** Checks a history of one key with {@link #DEFAULT_STEPS_MAX}. */
  public static Result check(List<Op> history) {
    return check(history, DEFAULT_STEPS_MAX);
  }

  /**
   * Checks a history of one key.
   *
   * @param history the ops, in any order, all on the same key
   * @param stepsMax the search budget; beyond it the verdict is UNKNOWN
   * @throws IllegalArgumentException if the ops are on more than one key
   */
  public static Result check(List<Op> history, long stepsMax) {
    String key = history.isEmpty() ? "" : history.get(0).key();
    for (Op op : history) {
      if (!op.key().equals(key)) {
        throw new IllegalArgumentException("ops on two keys: " + key + " and " + op.key());
      }
    }
    Search search = new Search(history, stepsMax);
    Verdict verdict = search.run();
    List<Op> unplaced = verdict == Verdict.LINEARIZABLE ? List.of() : search.deepestCandidates();
    return new Result(key, verdict, search.linearization(), unplaced, search.steps(),
        explain(key, verdict, search, unplaced, history.size(), stepsMax));
  }

  /** Checks every key of a history with {@link #DEFAULT_STEPS_MAX} steps per key. */
  public static Map<String, Result> checkAll(List<Op> history) {
    return checkAll(history, DEFAULT_STEPS_MAX);
  }

  /**
   * Checks every key of a history on its own.
   *
   * @return the result per key, in key order
   */
  public static Map<String, Result> checkAll(List<Op> history, long stepsMax) {
    Map<String, List<Op>> byKey = new TreeMap<>();
    for (Op op : history) {
      byKey.computeIfAbsent(Objects.requireNonNull(op, "op").key(), k -> new ArrayList<>())
          .add(op);
    }
    Map<String, Result> results = new TreeMap<>();
    byKey.forEach((key, ops) -> results.put(key, check(ops, stepsMax)));
    return Collections.unmodifiableMap(results);
  }

  private static String explain(String key, Verdict verdict, Search search, List<Op> unplaced,
      int ops, long stepsMax) {
    StringBuilder out = new StringBuilder("key ").append(key).append(": ");
    if (verdict == Verdict.LINEARIZABLE) {
      return out.append("linearizable (").append(ops).append(" ops, ").append(search.steps())
          .append(" steps)").toString();
    }
    out.append(verdict == Verdict.UNKNOWN
        ? "unknown, gave up after " + stepsMax + " steps (history too large or too concurrent)"
        : "not linearizable").append(".\n");
    List<Op> prefix = search.linearization();
    long completed = prefix.stream().filter(o -> !o.indeterminate()).count();
    out.append("Longest linearizable prefix found places ").append(completed).append(" of ")
        .append(search.definiteCount()).append(" completed ops:\n");
    for (int i = 0; i < prefix.size(); i++) {
      out.append("  ").append(i + 1).append(". ").append(prefix.get(i)).append('\n');
    }
    // Replayed with the ops as they are: the search's model hides values no get read.
    KeyState state = KeyState.INITIAL;
    for (Op op : prefix) {
      state = state.apply(op);
    }
    out.append("after which the key is ").append(state).append(". None of these can follow:\n");
    for (Op op : unplaced) {
      out.append("  ").append(op).append(state.apply(op) != null
          ? ": possible, but nothing works after it\n" : ": impossible in that state\n");
    }
    Op deadline = search.deepestDeadline();
    if (deadline != null) {
      out.append("and ").append(deadline).append(" must take effect by t=")
          .append(deadline.completeNanos()).append('.');
    }
    return out.toString();
  }
}
