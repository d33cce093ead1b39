package io.keel.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.check.Linearizability.Result;
import io.keel.check.Linearizability.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded runs of a correct map ({@link RegisterSim}): every history must be judged
 * linearizable and pass the whole-run checks; and each history with one read mutated so that no
 * linearization can exist must be judged not linearizable. Every assertion names its seed.
 */
class LinearizabilityPropertyTest {

  static long[] seeds() {
    long[] seeds = new long[40];
    for (int i = 0; i < seeds.length; i++) {
      seeds[i] = 1000 + i;
    }
    return seeds;
  }

  private static RegisterSim.Run run(long seed, int keys) {
    SplittableRandom random = new SplittableRandom(seed);
    return RegisterSim.run(random, 2 + random.nextInt(9), 10 + random.nextInt(40), keys,
        random.nextInt(11) / 100.0);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void histories_of_a_correct_map_are_linearizable(long seed) {
    RegisterSim.Run run = run(seed, 1 + (int) (seed % 3));
    Map<String, Result> results = Linearizability.checkAll(run.history());
    results.values().forEach(r -> assertThat(r.verdict()).as("seed=%d %s", seed, r.explanation())
        .isEqualTo(Verdict.LINEARIZABLE));
    assertThat(HistoryCheck.all(run.history(), run.finals())).as("seed=%d", seed).isEmpty();
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void a_read_of_a_value_never_written_is_caught(long seed) {
    assertCaught(seed, (get, history) -> List.of(
        Op.get(get.client(), get.key(), get.invokeNanos()).found("never-written", 1,
            get.completeNanos())));
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void a_read_of_a_value_overwritten_before_the_read_began_is_caught(long seed) {
    assertCaught(seed, (get, history) -> {
      // Values written before a change that completed before the read began.
      List<Op> stale = new ArrayList<>();
      for (Op w : history) {
        if (w.outcome() == Op.Outcome.OK && history.stream().anyMatch(c -> c != w
            && (c.outcome() == Op.Outcome.OK || c.outcome() == Op.Outcome.DELETED)
            && w.precedes(c) && c.precedes(get))) {
          stale.add(Op.get(get.client(), get.key(), get.invokeNanos()).found(w.value(),
              w.version(), get.completeNanos()));
        }
      }
      return stale;
    });
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void a_read_of_a_known_value_at_another_version_is_caught(long seed) {
    assertCaught(seed, (get, history) -> history.stream()
        .filter(w -> w.outcome() == Op.Outcome.OK && w.value().equals(get.value()))
        .map(w -> Op.get(get.client(), get.key(), get.invokeNanos()).found(w.value(),
            w.version() + 1, get.completeNanos()))
        .toList());
  }

  @Test
  void five_hundred_ops_from_eight_clients_on_one_key_are_checked() {
    RegisterSim.Run run = RegisterSim.run(new SplittableRandom(42), 8, 63, 1, 0.03);
    assertThat(run.history()).hasSize(504);
    Result r = Linearizability.check(run.history());
    assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(r.steps()).as("steps").isLessThan(Linearizability.DEFAULT_STEPS_MAX);
  }

  /**
   * Replaces one completed get, chosen by the seed, with one of the reads {@code mutations}
   * offers for it (each of which no linearization can explain), and checks the verdict.
   */
  private static void assertCaught(long seed, BiFunction<Op, List<Op>, List<Op>> mutations) {
    RegisterSim.Run run = run(seed, 1);
    List<Op> history = run.history();
    SplittableRandom random = new SplittableRandom(seed);
    List<Integer> gets = new ArrayList<>();
    for (int i = 0; i < history.size(); i++) {
      Op op = history.get(i);
      if (op.kind() == Op.Kind.GET && !op.indeterminate()
          && !mutations.apply(op, history).isEmpty()) {
        gets.add(i);
      }
    }
    assertThat(gets).as("seed=%d: no read to mutate", seed).isNotEmpty();
    int i = gets.get(random.nextInt(gets.size()));
    List<Op> options = mutations.apply(history.get(i), history);
    Op mutant = options.get(random.nextInt(options.size()));
    List<Op> mutated = new ArrayList<>(history);
    mutated.set(i, mutant);
    Result r = Linearizability.check(mutated);
    assertThat(r.verdict()).as("seed=%d mutant=%s was=%s\n%s", seed, mutant, history.get(i),
        r.explanation()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.explanation()).contains("not linearizable");
  }
}
