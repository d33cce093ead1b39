package io.keel.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.check.Linearizability.Result;
import io.keel.check.Linearizability.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The checker against a brute-force oracle on small histories: the oracle tries every order
 * that respects real time, every subset of indeterminate ops, and concrete numbers for the
 * versions nobody saw, on a plain register written from the rules (not from {@link KeyState}).
 * So it checks the symbolic versions and every pruning rule of the search at once. Histories
 * come from a small correct run with one op replaced by a random one, which makes about half
 * of them non-linearizable.
 */
class LinearizabilityOracleTest {

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void the_checker_agrees_with_brute_force(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int[] verdicts = new int[2];
    for (int round = 0; round < 500; round++) {
      List<Op> history = new ArrayList<>(RegisterSim.run(random, 2 + random.nextInt(2),
          1 + random.nextInt(3), 1, 0.3).history());
      int i = random.nextInt(history.size());
      if (random.nextInt(4) != 0) {
        history.set(i, randomOp(random, history.get(i)));
      }
      boolean expected = new Oracle(history).linearizable();
      Result r = Linearizability.check(history);
      assertThat(r.verdict()).as("seed=%d round=%d %s\n%s", seed, round, history,
          r.explanation()).isEqualTo(expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE);
      verdicts[expected ? 0 : 1]++;
    }
    assertThat(verdicts[0]).as("seed=%d linearizable of %s", seed, verdicts).isGreaterThan(100);
    assertThat(verdicts[1]).as("seed=%d not linearizable %s", seed, verdicts).isGreaterThan(100);
  }

  /** An op in the same window as {@code like}, of a random kind, with a random answer. */
  private static Op randomOp(SplittableRandom random, Op like) {
    String key = like.key();
    long from = like.invokeNanos();
    long to = like.indeterminate() ? from + 1 + random.nextInt(30) : like.completeNanos();
    String value = "v" + random.nextInt(3);
    long version = 1 + random.nextInt(12);
    boolean indeterminate = random.nextInt(4) == 0;
    Op op;
    switch (random.nextInt(4)) {
      case 0:
        op = Op.put("x", key, value, from);
        return indeterminate ? op : op.ok(version, to);
      case 1:
        op = Op.get("x", key, from);
        return random.nextBoolean() ? op.notFound(to) : op.found(value, version, to);
      case 2:
        op = Op.cas("x", key, random.nextInt(6), value, from);
        return indeterminate ? op : random.nextBoolean() ? op.conflict(to) : op.ok(version, to);
      default:
        op = random.nextBoolean() ? Op.delete("x", key, from)
            : Op.deleteIf("x", key, 1 + random.nextInt(6), from);
        int answer = random.nextInt(op.expectVersion() == Op.ANY ? 2 : 3);
        return indeterminate ? op : answer == 0 ? op.deleted(to)
            : answer == 1 ? op.notFound(to) : op.conflict(to);
    }
  }

  /** Exhaustive search over orders, subsets of indeterminate ops and unseen version numbers. */
  private static final class Oracle {
    private final List<Op> ops;
    private final boolean[] placed;
    private final long versionMax;
    private int definiteLeft;

    Oracle(List<Op> history) {
      this.ops = history.stream().filter(o -> !(o.indeterminate() && o.kind() == Op.Kind.GET))
          .toList();
      this.placed = new boolean[ops.size()];
      this.versionMax = ops.stream().mapToLong(o -> Math.max(o.version(), o.expectVersion()))
          .max().orElse(0);
      this.definiteLeft = (int) ops.stream().filter(o -> !o.indeterminate()).count();
    }

    boolean linearizable() {
      return search(false, null, 0, 0);
    }

    /** Whether the unplaced ops can follow a register holding value at version, top ever. */
    private boolean search(boolean present, String value, long version, long top) {
      if (definiteLeft == 0) {
        return true;
      }
      for (int i = 0; i < ops.size(); i++) {
        if (!placed[i] && eligible(ops.get(i)) && tryOp(i, present, value, version, top)) {
          return true;
        }
      }
      return false;
    }

    private boolean eligible(Op op) {
      for (int j = 0; j < ops.size(); j++) {
        if (!placed[j] && ops.get(j).precedes(op)) {
          return false;
        }
      }
      return true;
    }

    private boolean tryOp(int i, boolean present, String value, long version, long top) {
      Op op = ops.get(i);
      boolean definite = !op.indeterminate();
      placed[i] = true;
      definiteLeft -= definite ? 1 : 0;
      boolean ok = step(op, present, value, version, top);
      placed[i] = false;
      definiteLeft += definite ? 1 : 0;
      return ok;
    }

    private boolean step(Op op, boolean present, String value, long version, long top) {
      long e = op.expectVersion();
      boolean match = e == Op.ANY ? present : e == 0 ? !present : present && version == e;
      switch (op.kind()) {
        case GET:
          return (op.outcome() == Op.Outcome.NOT_FOUND ? !present
              : present && value.equals(op.value()) && version == op.version())
              && search(present, value, version, top);
        case PUT:
        case CAS:
          if (op.outcome() == Op.Outcome.CONFLICT) {
            return !match && search(present, value, version, top);
          }
          if (!match && op.kind() == Op.Kind.CAS) {
            return false;
          }
          if (!op.indeterminate()) {
            return op.version() > top && search(true, op.value(), op.version(), op.version());
          }
          for (long v = top + 1; v <= Math.max(top + 1, versionMax + 1); v++) {
            if (search(true, op.value(), v, v)) {
              return true;
            }
          }
          return false;
        default:
          if (op.outcome() == Op.Outcome.NOT_FOUND) {
            return !present && search(false, null, 0, top);
          }
          if (op.outcome() == Op.Outcome.CONFLICT) {
            return !match && search(present, value, version, top);
          }
          return match && search(false, null, 0, top);
      }
    }
  }
}
