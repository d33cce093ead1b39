package io.keel.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.check.MutexCheck.Hold;
import org.junit.jupiter.api.Test;

class MutexCheckTest {
  private static final long MS = 1_000_000;
  private static final long NEVER = Long.MAX_VALUE;

  private static Hold hold(String request, long token, long invokedMs, long grantedMs,
      long leaseMs, long releasedMs) {
    return new Hold(request, token, invokedMs * MS, grantedMs * MS, leaseMs * MS, -1,
        releasedMs == NEVER ? NEVER : releasedMs * MS, NEVER);
  }

  @Test
  void holds_one_after_another_pass() {
    MutexCheck c = new MutexCheck();
    c.hold(hold("a", 1, 0, 5, 1_000, 10));
    c.hold(hold("b", 2, 2, 12, 1_000, 20));
    c.hold(hold("c", 3, 21, 25, 1_000, NEVER));
    c.accepted(1);
    c.accepted(2);
    c.accepted(3);
    assertThat(c.violations()).isEmpty();
  }

  @Test
  void a_grant_entirely_inside_another_hold_is_a_violation() {
    MutexCheck c = new MutexCheck();
    c.hold(hold("a", 1, 0, 5, 1_000, 100));
    c.hold(hold("b", 2, 10, 20, 1_000, 30));
    assertThat(c.violations()).singleElement().asString()
        .contains("b (token 2) was granted while a (token 1) still held the lock");
    // An overlap, not a fencing failure: the tokens still order the writes.
    assertThat(c.overlaps()).isEqualTo(c.violations());
    assertThat(c.fencing()).isEmpty();
  }

  @Test
  void a_grant_that_may_have_come_before_the_other_or_after_its_release_is_not_reported() {
    MutexCheck c = new MutexCheck();
    // b was asked for before a's grant arrived: b may have been granted first.
    c.hold(hold("a", 1, 0, 5, 1_000, 100));
    c.hold(hold("b", 2, 4, 20, 1_000, 30));
    // d's grant arrived after c's release was sent: c's release may have come first.
    c.hold(hold("c", 3, 200, 205, 1_000, 300));
    c.hold(hold("d", 4, 250, 301, 1_000, 400));
    assertThat(c.violations()).isEmpty();
  }

  @Test
  void a_grant_after_the_earliest_lease_end_is_allowed_and_a_renewal_extends_it() {
    MutexCheck c = new MutexCheck();
    c.hold(hold("a", 1, 0, 5, 100, NEVER)); // a paused holder: its lease ends at 100 at least
    c.hold(hold("b", 2, 90, 150, 100, 160));
    assertThat(c.violations()).isEmpty();

    MutexCheck renewed = new MutexCheck();
    renewed.hold(new Hold("a", 1, 0, 5 * MS, 100 * MS, 80 * MS, NEVER, NEVER));
    renewed.hold(hold("b", 2, 90, 150, 100, 160));
    assertThat(renewed.violations()).singleElement().asString().contains("b (token 2)");
  }

  @Test
  void a_hold_whose_node_failed_may_end_then() {
    MutexCheck c = new MutexCheck();
    c.hold(new Hold("a", 1, 0, 5 * MS, 1_000 * MS, -1, NEVER, 50 * MS));
    c.hold(hold("b", 2, 60, 70, 1_000, 80));
    assertThat(c.violations()).isEmpty();
  }

  @Test
  void a_token_granted_twice_and_a_fenced_write_out_of_order_are_violations() {
    MutexCheck c = new MutexCheck();
    c.hold(hold("a", 7, 0, 5, 1_000, 10));
    c.hold(hold("a", 7, 0, 6, 1_000, 10)); // the same request answered twice: fine
    c.hold(hold("b", 7, 20, 25, 1_000, 30));
    c.accepted(7);
    c.accepted(7);
    assertThat(c.violations()).containsExactly("token 7 was granted twice: to a and to b",
        "the fenced resource accepted token 7 after token 7");
    assertThat(c.fencing()).isEqualTo(c.violations());
    assertThat(c.overlaps()).isEmpty();
  }

  @Test
  void an_unleased_lock_is_checked_for_overlap_only() {
    MutexCheck c = new MutexCheck();
    c.hold(hold("a", 1, 0, 5, 0, NEVER).withNoLease());
    c.hold(hold("b", 2, 10_000, 10_005, 0, 10_010).withNoLease());
    assertThat(c.violations()).hasSize(1);
  }
}
