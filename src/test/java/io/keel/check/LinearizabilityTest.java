package io.keel.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.check.Linearizability.Result;
import io.keel.check.Linearizability.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hand-written histories of one key, one or two per rule: each linearizable history has a
 * twin that breaks the rule. Times are in nanoseconds; {@code @[a, b]} in the comments is an
 * op's window and {@code -} marks an indeterminate op.
 */
class LinearizabilityTest {
  private static final String K = "k";

  private static Result linearizable(Op... ops) {
    Result r = Linearizability.check(List.of(ops));
    assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.LINEARIZABLE);
    return r;
  }

  private static Result notLinearizable(Op... ops) {
    Result r = Linearizability.check(List.of(ops));
    assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    return r;
  }

  @Test
  void an_empty_history_is_linearizable() {
    assertThat(linearizable().linearized()).isEmpty();
  }

  @Test
  void the_witness_orders_ops_as_they_took_effect() {
    Op get = Op.get("c2", K, 0).found("a", 3, 30);
    Op put = Op.put("c1", K, "a", 5).ok(3, 10);
    assertThat(linearizable(get, put).linearized()).containsExactly(put, get);
  }

  @Test
  void a_read_after_a_completed_put_sees_it_and_a_stale_read_does_not_linearize() {
    Op a = Op.put("c1", K, "a", 0).ok(1, 10);
    Op b = Op.put("c1", K, "b", 20).ok(2, 30);
    linearizable(a, b, Op.get("c2", K, 40).found("b", 2, 50));
    Result r = notLinearizable(a, b, Op.get("c2", K, 40).found("a", 1, 50));
    assertThat(r.linearized()).containsExactly(a, b);
    assertThat(r.explanation()).contains("not linearizable", "1. " + a, "2. " + b,
        "PRESENT(\"b\", v2)", "c2 get(k) -> \"a\" v1 @[40, 50]: impossible in that state",
        "must take effect by t=50");
  }

  @Test
  void the_explanation_lists_what_cannot_follow_the_longest_prefix() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    Op stale = Op.cas("c2", K, 3, "x", 1);
    Op b = Op.put("c3", K, "b", 20);
    Op get = Op.get("c4", K, 30).found("z", 6, 40);
    Result r = notLinearizable(a, stale, b, get);
    assertThat(r.linearized()).containsExactly(a);
    assertThat(r.unplaced()).containsExactly(get, b);
    assertThat(r.explanation()).contains("after which the key is PRESENT(\"a\", v5)",
        get + ": impossible in that state", b + ": possible, but nothing works after it")
        .doesNotContain("c2");
  }

  @Test
  void a_read_concurrent_with_a_put_may_see_the_old_or_the_new_value() {
    Op a = Op.put("c1", K, "a", 0).ok(1, 10);
    Op b = Op.put("c1", K, "b", 20).ok(2, 30);
    linearizable(a, b, Op.get("c2", K, 25).found("a", 1, 35));
    linearizable(a, b, Op.get("c2", K, 15).found("b", 2, 25));
    // Touching windows count as concurrent: the get may precede the put.
    linearizable(a, Op.get("c2", K, 10).notFound(20));
  }

  @Test
  void once_a_reader_saw_the_new_value_a_later_reader_cannot_see_the_old_one() {
    Op a = Op.put("c1", K, "a", 0).ok(1, 10);
    Op b = Op.put("c1", K, "b", 20).ok(2, 100);
    notLinearizable(a, b, Op.get("c2", K, 30).found("b", 2, 40),
        Op.get("c3", K, 50).found("a", 1, 60));
  }

  @Test
  void a_value_never_written_is_never_read() {
    notLinearizable(Op.put("c1", K, "a", 0).ok(1, 10), Op.get("c2", K, 0).found("z", 1, 30));
  }

  @Test
  void an_acknowledged_write_is_not_lost() {
    Op a = Op.put("c1", K, "a", 0).ok(1, 10);
    notLinearizable(a, Op.get("c2", K, 20).notFound(30));
    linearizable(a, Op.delete("c3", K, 15), Op.get("c2", K, 20).notFound(30));
  }

  @Test
  void a_get_returns_exactly_the_version_of_the_write_it_sees() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    linearizable(a, Op.get("c2", K, 20).found("a", 5, 30));
    notLinearizable(a, Op.get("c2", K, 20).found("a", 6, 30));
    notLinearizable(a, Op.get("c2", K, 20).found("a", 4, 30));
  }

  @Test
  void put_versions_grow_but_need_not_be_contiguous() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    linearizable(a, Op.put("c1", K, "b", 20).ok(90, 30));
    notLinearizable(a, Op.put("c1", K, "b", 20).ok(3, 30));
    notLinearizable(a, Op.put("c1", K, "b", 20).ok(5, 30));
    // Concurrent puts may take effect in either order, but their versions tell which.
    linearizable(Op.put("c1", K, "a", 0).ok(7, 10), Op.put("c2", K, "b", 0).ok(6, 10),
        Op.get("c3", K, 20).found("a", 7, 30));
    notLinearizable(Op.put("c1", K, "a", 0).ok(7, 10), Op.put("c2", K, "b", 0).ok(6, 10),
        Op.get("c3", K, 20).found("b", 6, 30));
  }

  @Test
  void cas_succeeds_only_on_the_current_version_and_creates_a_higher_one() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    linearizable(a, Op.cas("c2", K, 5, "b", 20).ok(7, 30), Op.get("c2", K, 40).found("b", 7, 50));
    notLinearizable(a, Op.cas("c2", K, 4, "b", 20).ok(7, 30));
    notLinearizable(a, Op.cas("c2", K, 5, "b", 20).ok(5, 30));
    notLinearizable(a, Op.cas("c2", K, 0, "b", 20).ok(7, 30));
    linearizable(Op.cas("c2", K, 0, "b", 20).ok(7, 30));
  }

  @Test
  void cas_conflicts_only_when_the_version_differs() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    linearizable(a, Op.cas("c2", K, 4, "b", 20).conflict(30), Op.get("c2", K, 40).found("a", 5,
        50));
    notLinearizable(a, Op.cas("c2", K, 5, "b", 20).conflict(30));
    linearizable(a, Op.cas("c2", K, 0, "b", 20).conflict(30));
    notLinearizable(Op.cas("c2", K, 0, "b", 20).conflict(30));
  }

  @Test
  void two_concurrent_cas_from_the_same_version_cannot_both_succeed() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    notLinearizable(a, Op.cas("c2", K, 5, "b", 20).ok(7, 40),
        Op.cas("c3", K, 5, "c", 21).ok(8, 41));
    linearizable(a, Op.cas("c2", K, 5, "b", 20).ok(7, 40),
        Op.cas("c3", K, 5, "c", 21).conflict(41));
    // The loser may also have run after the winner, against the new version.
    linearizable(a, Op.cas("c2", K, 5, "b", 20).ok(7, 40),
        Op.cas("c3", K, 7, "c", 21).ok(8, 41));
  }

  @Test
  void a_deleted_key_reads_as_absent() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    Op delete = Op.delete("c1", K, 20).deleted(30);
    linearizable(a, delete, Op.get("c2", K, 40).notFound(50));
    notLinearizable(a, delete, Op.get("c2", K, 40).found("a", 5, 50));
    notLinearizable(a, Op.delete("c1", K, 20).notFound(30));
    linearizable(Op.delete("c1", K, 20).notFound(30));
    notLinearizable(Op.delete("c1", K, 20).deleted(30));
  }

  @Test
  void a_conditional_delete_needs_the_current_version() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    linearizable(a, Op.deleteIf("c1", K, 5, 20).deleted(30), Op.get("c2", K, 40).notFound(50));
    notLinearizable(a, Op.deleteIf("c1", K, 4, 20).deleted(30));
    linearizable(a, Op.deleteIf("c1", K, 4, 20).conflict(30), Op.get("c2", K, 40).found("a", 5,
        50));
    notLinearizable(a, Op.deleteIf("c1", K, 5, 20).conflict(30));
    // On an absent key, either "nothing to delete" or "conflict" leaves it absent.
    linearizable(Op.deleteIf("c1", K, 5, 20).notFound(30));
    linearizable(Op.deleteIf("c1", K, 5, 20).conflict(30));
  }

  @Test
  void a_put_after_a_delete_gets_a_version_above_the_deleted_one() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    Op delete = Op.delete("c1", K, 20).deleted(30);
    linearizable(a, delete, Op.put("c1", K, "b", 40).ok(6, 50));
    notLinearizable(a, delete, Op.put("c1", K, "b", 40).ok(5, 50));
    notLinearizable(a, delete, Op.cas("c1", K, 0, "b", 40).ok(3, 50));
  }

  @Test
  void an_indeterminate_put_may_take_effect_at_any_time_after_its_invocation() {
    Op a = Op.put("c1", K, "a", 0).ok(1, 10);
    Op b = Op.put("c2", K, "b", 20);
    // It took effect, long after the client gave up and read the old value.
    Result r = linearizable(a, b, Op.get("c2", K, 30).found("a", 1, 40),
        Op.get("c2", K, 100).found("b", 9, 110));
    assertThat(r.linearized()).contains(b);
    // It never took effect.
    assertThat(linearizable(a, b, Op.get("c3", K, 30).found("a", 1, 40)).linearized())
        .doesNotContain(b);
    // But not before it was invoked, and not twice.
    notLinearizable(a, b, Op.get("c3", K, 5).found("b", 9, 15));
    notLinearizable(a, b, Op.get("c3", K, 30).found("b", 9, 40),
        Op.get("c3", K, 50).found("a", 1, 60));
  }

  @Test
  void an_indeterminate_write_gets_an_unknown_version_above_every_earlier_one() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    Op b = Op.put("c2", K, "b", 20);
    linearizable(a, b, Op.get("c3", K, 30).found("b", 6, 40));
    notLinearizable(a, b, Op.get("c3", K, 30).found("b", 5, 40));
    // Once read, the version is known exactly.
    notLinearizable(a, b, Op.get("c3", K, 30).found("b", 8, 40),
        Op.get("c3", K, 50).found("b", 9, 60));
    // And a later acknowledged put must be above it.
    notLinearizable(a, b, Op.get("c3", K, 30).found("b", 8, 40),
        Op.put("c3", K, "c", 50).ok(7, 60));
  }

  @Test
  void each_unseen_write_raises_the_least_possible_version_by_one() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    Op b = Op.put("c2", K, "b", 20);
    // b got some version >= 6; c's cas matched it, so c's version is >= 7.
    Op c = Op.cas("c3", K, 6, "c", 21);
    linearizable(a, b, c, Op.get("c4", K, 30).found("c", 7, 40));
    notLinearizable(a, b, c, Op.get("c4", K, 30).found("c", 6, 40));
    // A conditional delete's match also fixes the unseen version.
    Op d = Op.deleteIf("c3", K, 8, 21);
    notLinearizable(a, b, d, Op.get("c4", K, 30).notFound(40),
        Op.put("c4", K, "e", 50).ok(8, 60));
    linearizable(a, b, d, Op.get("c4", K, 30).notFound(40), Op.put("c4", K, "e", 50).ok(9, 60));
  }

  @Test
  void a_conflict_rules_out_one_unseen_version() {
    Op b = Op.put("c1", K, "b", 0);
    // The cas(0) conflict proves b took effect before t=20, with some version >= 1.
    Op present = Op.cas("c2", K, 0, "x", 10).conflict(20);
    Op not1 = Op.cas("c2", K, 1, "x", 30).conflict(40);
    linearizable(b, present, Op.get("c3", K, 50).found("b", 1, 60));
    notLinearizable(b, present, not1, Op.get("c3", K, 50).found("b", 1, 60));
    linearizable(b, present, not1, Op.get("c3", K, 50).found("b", 2, 60));
    Op not2 = Op.deleteIf("c2", K, 2, 30).conflict(40);
    notLinearizable(b, present, not1, not2, Op.get("c3", K, 50).found("b", 2, 60));
    linearizable(b, present, not1, not2, Op.get("c3", K, 50).found("b", 3, 60));
    // A conflict above the least possible version rules out just that one.
    Op not5 = Op.cas("c2", K, 5, "x", 30).conflict(40);
    notLinearizable(b, present, not5, Op.get("c3", K, 50).found("b", 5, 60));
    linearizable(b, present, not5, Op.get("c3", K, 50).found("b", 4, 60));
  }

  @Test
  void indeterminate_deletes_and_cas_may_or_may_not_happen() {
    Op a = Op.put("c1", K, "a", 0).ok(5, 10);
    Op delete = Op.delete("c2", K, 20);
    linearizable(a, delete, Op.get("c3", K, 30).notFound(40));
    linearizable(a, delete, Op.get("c3", K, 30).found("a", 5, 40));
    Op cas = Op.cas("c2", K, 5, "b", 20);
    linearizable(a, cas, Op.get("c3", K, 30).found("b", 6, 40));
    linearizable(a, cas, Op.get("c3", K, 30).found("a", 5, 40));
    // A cas expecting the wrong version cannot have happened.
    notLinearizable(a, Op.cas("c2", K, 4, "b", 20), Op.get("c3", K, 30).found("b", 6, 40));
    // An indeterminate get says nothing.
    linearizable(a, Op.get("c3", K, 30));
  }

  @Test
  void many_unseen_writes_do_not_blow_up_a_failing_search() {
    List<Op> history = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      history.add(Op.put("u" + i, K, "u" + i, i));
    }
    long t = 100;
    for (int v = 1; v <= 50; v++, t += 40) {
      history.add(Op.put("w", K, "w" + v, t).ok(100 * v, t + 10));
      history.add(Op.get("r", K, t + 20).found("w" + v, 100 * v, t + 30));
    }
    history.add(Op.get("r", K, t).found("never", 1_000_000, t + 10));
    Result r = Linearizability.check(history);
    assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.steps()).isLessThan(100_000);
  }

  @Test
  void a_search_over_budget_answers_unknown() {
    Op a = Op.put("c1", K, "a", 0).ok(1, 100);
    Op b = Op.put("c2", K, "b", 0).ok(2, 100);
    Result r = Linearizability.check(List.of(a, b, Op.get("c3", K, 0).found("b", 2, 100)), 1);
    assertThat(r.verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(r.linearizable()).isFalse();
    assertThat(r.explanation()).contains("unknown, gave up after 1 steps");
    assertThat(r.linearized()).hasSize(1);
  }

  @Test
  void check_takes_one_key_and_check_all_splits_by_key() {
    Op a = Op.put("c1", "a", "x", 0).ok(1, 10);
    Op b = Op.put("c1", "b", "y", 0).ok(2, 10);
    assertThatThrownBy(() -> Linearizability.check(List.of(a, b)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two keys");
    Map<String, Result> results = Linearizability.checkAll(List.of(a, b,
        Op.get("c2", "a", 20).found("x", 1, 30), Op.get("c2", "b", 20).found("x", 1, 30)));
    assertThat(results).containsOnlyKeys("a", "b");
    assertThat(results.get("a").linearizable()).isTrue();
    assertThat(results.get("b").verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(results.get("b").explanation()).startsWith("key b: not linearizable");
    assertThat(results.get("b").unplaced()).extracting(Op::client).containsExactly("c2");
  }
}
