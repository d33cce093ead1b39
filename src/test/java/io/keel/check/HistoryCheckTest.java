package io.keel.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.check.HistoryCheck.Stored;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The whole-run checks, one rule per test, each with a passing and a failing run. */
class HistoryCheckTest {
  private static final Op A = Op.put("c1", "k", "a", 0).ok(5, 10);
  private static final Op B = Op.put("c2", "k", "b", 20).ok(7, 30);

  @Test
  void the_final_state_keeps_the_latest_acknowledged_write() {
    assertThat(HistoryCheck.finalState(List.of(A, B), Map.of("k", new Stored("b", 7)))).isEmpty();
    assertThat(HistoryCheck.finalState(List.of(A, B), Map.of("k", new Stored("a", 5))))
        .singleElement().asString()
        .contains("key k: final version 5 is below the acknowledged c2 put(k, \"b\")");
  }

  @Test
  void the_final_value_at_an_acknowledged_version_is_that_write() {
    assertThat(HistoryCheck.finalState(List.of(A, B), Map.of("k", new Stored("a", 7))))
        .singleElement().asString().contains("final \"a\" v7 differs from the acknowledged");
  }

  @Test
  void a_final_value_above_every_acknowledged_version_came_from_an_indeterminate_write() {
    Op c = Op.put("c3", "k", "c", 40);
    assertThat(HistoryCheck.finalState(List.of(A, B, c), Map.of("k", new Stored("c", 12))))
        .isEmpty();
    assertThat(HistoryCheck.finalState(List.of(A, B), Map.of("k", new Stored("c", 12))))
        .singleElement().asString().contains("\"c\" v12 was not written");
    assertThat(HistoryCheck.finalState(List.of(), Map.of("z", new Stored("c", 12))))
        .singleElement().asString().startsWith("key z:");
  }

  @Test
  void a_key_absent_at_the_end_needs_a_delete_that_may_follow_the_last_acknowledged_write() {
    Op early = Op.delete("c3", "k", 0).notFound(3);
    assertThat(HistoryCheck.finalState(List.of(A, B, early), Map.of())).singleElement()
        .asString().contains("absent at the end, but no delete could follow");
    Op concurrent = Op.delete("c3", "k", 25).deleted(35);
    assertThat(HistoryCheck.finalState(List.of(A, B, concurrent), Map.of())).isEmpty();
    Op indeterminate = Op.deleteIf("c3", "k", 7, 0);
    assertThat(HistoryCheck.finalState(List.of(A, B, indeterminate), Map.of())).isEmpty();
    Op completedBefore = Op.delete("c3", "k", 12).deleted(15);
    assertThat(HistoryCheck.finalState(List.of(A, B, completedBefore), Map.of())).hasSize(1);
  }

  @Test
  void a_version_never_goes_back_in_real_time() {
    Op read = Op.get("c3", "k", 40).found("b", 7, 50);
    assertThat(HistoryCheck.versionOrder(List.of(A, B, read))).isEmpty();
    Op stale = Op.get("c3", "k", 40).found("a", 5, 50);
    assertThat(HistoryCheck.versionOrder(List.of(A, B, stale))).singleElement().asString()
        .contains("version went back", "read v5", "after " + B);
    // Concurrent ops may see versions in any order.
    Op concurrent = Op.get("c3", "k", 25).found("a", 5, 50);
    assertThat(HistoryCheck.versionOrder(List.of(A, B, concurrent))).isEmpty();
  }

  @Test
  void a_write_after_a_read_creates_a_higher_version() {
    Op read = Op.get("c3", "k", 40).found("b", 7, 50);
    Op same = Op.cas("c3", "k", 7, "c", 60).ok(7, 70);
    assertThat(HistoryCheck.versionOrder(List.of(A, B, read, same))).anySatisfy(
        v -> assertThat(v).contains("wrote v7 after"));
    assertThat(HistoryCheck.versionOrder(List.of(A, B, read,
        Op.cas("c3", "k", 7, "c", 60).ok(8, 70)))).isEmpty();
  }

  @Test
  void two_acknowledged_writes_never_share_a_version() {
    Op twin = Op.put("c3", "k", "c", 0).ok(5, 10);
    assertThat(HistoryCheck.versionOrder(List.of(A, twin))).singleElement().asString()
        .contains("two acknowledged writes got v5");
  }

  @Test
  void all_runs_both_checks_and_keys_are_independent() {
    Op other = Op.put("c1", "j", "x", 0).ok(3, 10);
    assertThat(HistoryCheck.all(List.of(A, B, other),
        Map.of("k", new Stored("b", 7), "j", new Stored("x", 3)))).isEmpty();
    List<String> violations = HistoryCheck.all(List.of(A, B, other,
        Op.get("c4", "j", 20).found("x", 2, 30)), Map.of("k", new Stored("a", 5)));
    assertThat(violations).hasSize(3);
    assertThat(violations.get(0)).startsWith("key j: absent at the end");
    assertThat(violations.get(1)).startsWith("key k: final version 5");
    assertThat(violations.get(2)).startsWith("key j: version went back");
  }

  @Test
  void a_stored_value_has_a_positive_version() {
    assertThatThrownBy(() -> new Stored("a", 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("version must be > 0, was 0");
  }
}
