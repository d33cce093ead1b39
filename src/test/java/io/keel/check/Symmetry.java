package io.keel.check;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Makes interchangeable ops look alike to the search's memo, so that it does not try every
 * choice among them.
 *
 * <p>Implementation notes. The model compares values only when a get finds one, so a value that
 * no completed get found is as good as any other such value: {@link #model} replaces all of
 * them with one placeholder. Then indeterminate ops of the same kind and arguments are
 * interchangeable wherever both may be placed. The memo therefore records which of them were
 * placed only by how many, as the earliest-invoked ones of their class ({@link #canonical}).
 * This is exact, not a heuristic: the search only places an indeterminate op once every op
 * that completed before it was invoked is placed, and that depends on the completed ops placed
 * alone, so two nodes with the same completed ops can place the same members of a class. For
 * example, with ten unread indeterminate puts, "which three were used" becomes "three were".
 */
final class Symmetry {
  private final Op[] model;
  // For each indeterminate slot: the slots of its class, earliest invocation first.
  private final int[][] classOf;
  private final boolean trivial;

  /**
   * @param ops the history, in search order
   * @param slot each op's index among the indeterminate ops (or the completed ones)
   */
  Symmetry(Op[] ops, int[] slot) {
    Set<String> read = new HashSet<>();
    for (Op op : ops) {
      if (op.outcome() == Op.Outcome.FOUND) {
        read.add(op.value());
      }
    }
    String unread = "<unread>";
    while (read.contains(unread)) {
      unread += "'";
    }
    model = new Op[ops.length];
    Map<List<Object>, List<Integer>> classes = new HashMap<>();
    List<Integer> indeterminate = new ArrayList<>();
    for (int i = 0; i < ops.length; i++) {
      Op op = ops[i];
      boolean unseen = op.value() != null && !read.contains(op.value());
      model[i] = unseen ? new Op(op.client(), op.key(), op.kind(), unread, op.expectVersion(),
          op.outcome(), op.version(), op.invokeNanos(), op.completeNanos()) : op;
      if (op.indeterminate()) {
        indeterminate.add(i);
        classes.computeIfAbsent(List.of(op.kind(), op.expectVersion(), "" + model[i].value()),
            k -> new ArrayList<>()).add(i);
      }
    }
    classOf = new int[indeterminate.size()][];
    boolean trivial = true;
    for (List<Integer> members : classes.values()) {
      members.sort((a, b) -> Long.compare(ops[a].invokeNanos(), ops[b].invokeNanos()));
      int[] slots = members.stream().mapToInt(i -> slot[i]).toArray();
      members.forEach(i -> classOf[slot[i]] = slots);
      trivial &= slots.length == 1;
    }
    this.trivial = trivial;
  }

  /** The op as the model should see it: unread values replaced by one placeholder. */
  Op model(int op) {
    return model[op];
  }

  /** The indeterminate ops placed, as the earliest-invoked members of their classes. */
  BitSet canonical(BitSet placed) {
    if (trivial) {
      return placed;
    }
    BitSet out = new BitSet();
    Map<int[], Integer> counts = new HashMap<>();
    for (int i = placed.nextSetBit(0); i >= 0; i = placed.nextSetBit(i + 1)) {
      counts.merge(classOf[i], 1, Integer::sum);
    }
    counts.forEach((members, n) -> {
      for (int k = 0; k < n; k++) {
        out.set(members[k]);
      }
    });
    return out;
  }
}
