package io.keel.check;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The depth-first search for a linearization of one key's history, after Wing and Gong with
 * Lowe's memoization ("Testing for linearizability", 2017) as Porcupine implements it. Single
 * use and not thread-safe.
 *
 * <p>Implementation notes. Calls and returns sit in one list sorted by time (a call before a
 * return at the same instant, so touching ops count as concurrent). The ops that may come next
 * are the calls before the first return: an op whose return is passed must already be placed.
 * Placing an op unlinks its call and return ("dancing links"); backtracking relinks them.
 * Indeterminate ops have no return, so nothing forces them: the search places one only when
 * that helps, and succeeds once every completed op is placed.
 *
 * <p>Pruning, each rule sound because it drops only nodes from which no linearization exists
 * that a kept node lacks (a brute-force oracle in the tests agrees on small histories):
 * <ul>
 *   <li>Memo with dominance. A node is skipped if a node seen with the same completed ops
 *   {@linkplain KeyState#permits permits} everything its state does and had spent (placed, or
 *   made useless as their version is past) no indeterminate op that this one has not.</li>
 *   <li>Greedy reads. A completed op that leaves the state unchanged (a read, a conflict) is
 *   placed at once with no alternative: whatever could follow it later can follow it now.</li>
 *   <li>No overwritten guesses. A put, or an indeterminate unconditional delete, never directly
 *   follows an indeterminate op: dropping that op leaves the same outcome with a lower version
 *   bound, which permits more.</li>
 *   <li>Interchangeable indeterminate ops count as one class ({@link Symmetry}).</li>
 * </ul>
 * Completed ops are tried before indeterminate ones, so that the nodes that spent fewer of them
 * tend to come first and dominate the rest. Without these rules, a failing search with a few
 * dozen indeterminate ops tries every subset of them.
 */
final class Search {
  private final Op[] ops;
  private final int[] slot;
  private final Entry head = new Entry(-1, false, Long.MIN_VALUE);
  private final Entry[] calls;
  private final Entry[] returns;
  private final BitSet placedDefinite = new BitSet();
  private final BitSet placedIndeterminate = new BitSet();
  private final Symmetry symmetry;
  private final Map<Node, List<Visit>> seen = new HashMap<>();
  private final int[] conditional;
  private final Deque<Frame> stack = new ArrayDeque<>();
  private final int definiteCount;
  private final long stepsMax;
  private int definitePlaced;
  private long steps;
  // The dead end with the most completed ops placed (then the fewest ops), and its deadline.
  private Frame deepest;
  private Op deepestDeadline;

  private static final class Entry {
    final int op;
    final boolean call;
    final long time;
    Entry prev;
    Entry next;

    Entry(int op, boolean call, long time) {
      this.op = op;
      this.call = call;
      this.time = time;
    }
  }

  /** The completed ops placed and the value; visits with these can be compared. */
  private record Node(BitSet definite, boolean present, String value) {
  }

  /**
   * A node seen: its state, the indeterminate ops it can no longer use (placed, or waiting for
   * a version now past; canonical), and whether the last op placed was indeterminate.
   */
  private record Visit(KeyState state, BitSet spent, boolean afterIndeterminate) {

    /** Whether this visit had at least every option {@code other} has. */
    boolean covers(Visit other) {
      if (afterIndeterminate && !other.afterIndeterminate || !state.permits(other.state)) {
        return false;
      }
      for (int i = spent.nextSetBit(0); i >= 0; i = spent.nextSetBit(i + 1)) {
        if (!other.spent.get(i)) {
          return false;
        }
      }
      return true;
    }
  }

  /** A placed op, the frame before it, the state after it, and the ops that may follow. */
  private static final class Frame {
    final Frame parent;
    final int op;
    final int definite;
    final int depth;
    final KeyState state;
    final int[] candidates;
    int next;

    Frame(Frame parent, int op, boolean definite, KeyState state, int[] candidates) {
      this.parent = parent;
      this.op = op;
      this.definite = parent == null ? 0 : parent.definite + (definite ? 1 : 0);
      this.depth = parent == null ? 0 : parent.depth + 1;
      this.state = state;
      this.candidates = candidates;
    }

    /** The ops placed up to this frame, in order. */
    List<Op> placed(Op[] ops) {
      List<Op> out = new ArrayList<>(depth);
      for (Frame f = this; f.parent != null; f = f.parent) {
        out.add(ops[f.op]);
      }
      Collections.reverse(out);
      return out;
    }
  }

  Search(List<Op> history, long stepsMax) {
    this.ops = history.stream().filter(o -> !(o.indeterminate() && o.kind() == Op.Kind.GET))
        .toArray(Op[]::new);
    this.stepsMax = stepsMax;
    this.slot = new int[ops.length];
    this.calls = new Entry[ops.length];
    this.returns = new Entry[ops.length];
    List<Entry> entries = new ArrayList<>();
    int definite = 0;
    int indeterminate = 0;
    for (int i = 0; i < ops.length; i++) {
      calls[i] = new Entry(i, true, ops[i].invokeNanos());
      entries.add(calls[i]);
      if (ops[i].indeterminate()) {
        slot[i] = indeterminate++;
      } else {
        slot[i] = definite++;
        returns[i] = new Entry(i, false, ops[i].completeNanos());
        entries.add(returns[i]);
      }
    }
    this.definiteCount = definite;
    this.symmetry = new Symmetry(ops, slot);
    this.conditional = IntStream.range(0, ops.length)
        .filter(i -> ops[i].indeterminate() && ops[i].expectVersion() > 0).toArray();
    entries.sort(Comparator.comparingLong((Entry e) -> e.time)
        .thenComparing(e -> !e.call).thenComparingInt(e -> e.op));
    Entry last = head;
    for (Entry e : entries) {
      last.next = e;
      e.prev = last;
      last = e;
    }
  }

  /** Runs the search; the verdict, then {@link #linearization} and friends say more. */
  Linearizability.Verdict run() {
    stack.push(new Frame(null, -1, false, KeyState.INITIAL, candidates(KeyState.INITIAL, false)));
    while (definitePlaced < definiteCount) {
      Frame f = stack.peek();
      if (f == null) {
        return Linearizability.Verdict.NOT_LINEARIZABLE;
      }
      if (f.next == f.candidates.length) {
        backtrack(f);
        continue;
      }
      if (++steps > stepsMax) {
        noteDepth(f);
        return Linearizability.Verdict.UNKNOWN;
      }
      int op = f.candidates[f.next++];
      KeyState s = f.state.apply(symmetry.model(op));
      if (s != null && firstVisit(op, s)) {
        lift(op);
        boolean definite = !ops[op].indeterminate();
        stack.push(new Frame(f, op, definite, s, candidates(s, !definite)));
      }
    }
    return Linearizability.Verdict.LINEARIZABLE;
  }

  /** The ops placed, in order: the whole linearization after success. */
  List<Op> linearization() {
    Frame last = definitePlaced == definiteCount ? stack.peek() : deepest;
    return last == null ? List.of() : last.placed(ops);
  }

  /**
   * The ops that could have come next at the deepest dead end, none of which worked, less the
   * indeterminate ops that would have changed nothing there.
   */
  List<Op> deepestCandidates() {
    return deepest == null ? List.of() : Arrays.stream(deepest.candidates)
        .filter(i -> !ops[i].indeterminate() || deepest.state.apply(symmetry.model(i)) != null)
        .mapToObj(i -> ops[i]).toList();
  }

  /** At the deepest dead end, the unplaced op that completed first, or {@code null}. */
  Op deepestDeadline() {
    return deepestDeadline;
  }

  /** Completed ops in the history, all of which a linearization must place. */
  int definiteCount() {
    return definiteCount;
  }

  /** Attempts to place an op so far. */
  long steps() {
    return steps;
  }

  private boolean firstVisit(int op, KeyState s) {
    boolean after = ops[op].indeterminate();
    BitSet placed = after ? placedIndeterminate : placedDefinite;
    placed.set(slot[op]);
    BitSet spent = (BitSet) placedIndeterminate.clone();
    for (int i : conditional) {
      if (s.past(ops[i].expectVersion())) {
        spent.set(slot[i]);
      }
    }
    Visit visit = new Visit(s, symmetry.canonical(spent), after);
    Node node = new Node(placedDefinite, s.present(), s.value());
    List<Visit> visits = seen.get(node);
    boolean first = visits == null || visits.stream().noneMatch(v -> v.covers(visit));
    if (first) {
      if (visits == null) {
        visits = new ArrayList<>(1);
        seen.put(new Node((BitSet) placedDefinite.clone(), node.present(), node.value()), visits);
      }
      visits.removeIf(visit::covers);
      visits.add(visit);
    }
    placed.clear(slot[op]);
    return first;
  }

  private void backtrack(Frame f) {
    noteDepth(f);
    stack.pop();
    if (f.op >= 0) {
      unlift(f.op);
    }
  }

  /** Remembers this dead end if it placed more completed ops (or as many, with fewer ops). */
  private void noteDepth(Frame f) {
    if (deepest == null || f.definite > deepest.definite
        || f.definite == deepest.definite && f.depth < deepest.depth) {
      deepest = f;
      Entry e = head.next;
      while (e != null && e.call) {
        e = e.next;
      }
      deepestDeadline = e == null ? null : ops[e.op];
    }
  }

  /**
   * The ops that may follow in {@code state}: the calls before the first return, completed ops
   * first. A completed op that leaves the state as it is goes alone, as nothing is lost by
   * placing it now. Left out: ops that only make a linearization less permissive (see the class
   * notes), and conditional indeterminate ops whose version is already in the past.
   */
  private int[] candidates(KeyState state, boolean afterIndeterminate) {
    List<Integer> definite = new ArrayList<>();
    List<Integer> indeterminate = new ArrayList<>();
    for (Entry e = head.next; e != null && e.call; e = e.next) {
      Op op = ops[e.op];
      boolean overwrites = op.kind() == Op.Kind.PUT
          || op.kind() == Op.Kind.DELETE && op.expectVersion() == Op.ANY;
      if (!op.indeterminate()) {
        if (state.equals(state.apply(symmetry.model(e.op)))) {
          return new int[] {e.op};
        }
        if (!(afterIndeterminate && op.kind() == Op.Kind.PUT)) {
          definite.add(e.op);
        }
      } else if (!(afterIndeterminate && overwrites)
          && (op.expectVersion() <= 0 || !state.past(op.expectVersion()))) {
        indeterminate.add(e.op);
      }
    }
    definite.addAll(indeterminate);
    return definite.stream().mapToInt(Integer::intValue).toArray();
  }

  private void lift(int op) {
    unlink(calls[op]);
    if (returns[op] != null) {
      unlink(returns[op]);
    }
    mark(op, true);
  }

  private void unlift(int op) {
    mark(op, false);
    if (returns[op] != null) {
      relink(returns[op]);
    }
    relink(calls[op]);
  }

  private void mark(int op, boolean placed) {
    if (ops[op].indeterminate()) {
      placedIndeterminate.set(slot[op], placed);
    } else {
      placedDefinite.set(slot[op], placed);
      definitePlaced += placed ? 1 : -1;
    }
  }

  private static void unlink(Entry e) {
    e.prev.next = e.next;
    if (e.next != null) {
      e.next.prev = e.prev;
    }
  }

  private static void relink(Entry e) {
    e.prev.next = e;
    if (e.next != null) {
      e.next.prev = e;
    }
  }
}
