package io.keel.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Building ops: an invocation is indeterminate until answered, and answers must fit. */
class OpTest {

  @Test
  void an_invocation_is_indeterminate_until_answered() {
    Op put = Op.put("c1", "k", "a", 10);
    assertThat(put.indeterminate()).isTrue();
    assertThat(put.completeNanos()).isEqualTo(Long.MAX_VALUE);
    assertThat(put.mayWrite()).isTrue();
    Op ok = put.ok(7, 20);
    assertThat(ok.outcome()).isEqualTo(Op.Outcome.OK);
    assertThat(ok.version()).isEqualTo(7);
    assertThat(ok.value()).isEqualTo("a");
    assertThat(ok.completeNanos()).isEqualTo(20);
    assertThatThrownBy(() -> ok.ok(8, 30)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already answered");
  }

  @Test
  void reads_like_the_call_and_its_answer() {
    assertThat(Op.cas("c1", "k", 3, "b", 10).ok(7, 20))
        .hasToString("c1 cas(k, 3, \"b\") -> ok v7 @[10, 20]");
    assertThat(Op.get("c2", "k", 5).found("b", 7, 9))
        .hasToString("c2 get(k) -> \"b\" v7 @[5, 9]");
    assertThat(Op.deleteIf("c3", "k", 7, 30))
        .hasToString("c3 delete(k, 7) -> indeterminate @[30, -]");
    assertThat(Op.delete("c3", "k", 30).notFound(40))
        .hasToString("c3 delete(k) -> not_found @[30, 40]");
  }

  @Test
  void precedence_is_strict_so_touching_ops_are_concurrent() {
    Op a = Op.put("c1", "k", "a", 0).ok(1, 10);
    assertThat(a.precedes(Op.get("c2", "k", 11))).isTrue();
    assertThat(a.precedes(Op.get("c2", "k", 10))).isFalse();
    assertThat(Op.put("c1", "k", "a", 0).precedes(Op.get("c2", "k", 1_000))).isFalse();
  }

  @Test
  void answers_must_fit_the_kind() {
    assertThatThrownBy(() -> Op.get("c", "k", 0).ok(1, 5))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("GET cannot answer OK");
    assertThatThrownBy(() -> Op.put("c", "k", "a", 0).conflict(5))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("PUT cannot answer CONFLICT");
    assertThatThrownBy(() -> Op.delete("c", "k", 0).conflict(5))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("DELETE cannot answer CONFLICT");
    assertThatThrownBy(() -> Op.cas("c", "k", 1, "a", 0).deleted(5))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("CAS cannot answer DELETED");
  }

  @Test
  void arguments_and_times_are_checked() {
    assertThatThrownBy(() -> Op.cas("c", "k", -1, "a", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expectVersion");
    assertThatThrownBy(() -> Op.deleteIf("c", "k", 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expectVersion");
    assertThatThrownBy(() -> Op.put("c", "k", null, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("value");
    assertThatThrownBy(() -> Op.put("c", "k", "a", 0).ok(0, 5))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("bad version: 0");
    assertThatThrownBy(() -> Op.put("c", "k", "a", 10).ok(1, 5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("completed before");
    assertThatThrownBy(() -> Op.get("c", "k", 0).found("a", 1, Long.MAX_VALUE))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("completion time");
  }
}
