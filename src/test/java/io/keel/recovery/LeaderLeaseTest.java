package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class LeaderLeaseTest {
  private static final long LEASE = 2_000;
  private static final List<String> THREE = List.of("a", "b", "c");

  @Test
  void a_leader_alone_holds_no_lease() {
    LeaderLease lease = new LeaderLease(LEASE);
    assertThat(lease.holds(1, "a", THREE, 0)).isFalse();
    assertThat(lease.holds(1, "a", List.of("a"), 0)).as("no acknowledgement of this term yet")
        .isFalse();
  }

  @Test
  void one_follower_makes_a_majority_of_three_until_the_lease_runs_out() {
    LeaderLease lease = new LeaderLease(LEASE);
    lease.acknowledged(1, "b", 100);
    assertThat(lease.holds(1, "a", THREE, 100)).isTrue();
    assertThat(lease.holds(1, "a", THREE, 100 + LEASE - 1)).isTrue();
    assertThat(lease.holds(1, "a", THREE, 100 + LEASE)).isFalse();
    assertThat(lease.holds(2, "a", THREE, 100)).as("another term").isFalse();
  }

  @Test
  void five_voters_need_two_followers() {
    List<String> five = List.of("a", "b", "c", "d", "e");
    LeaderLease lease = new LeaderLease(LEASE);
    lease.acknowledged(1, "b", 0);
    assertThat(lease.holds(1, "a", five, 10)).isFalse();
    lease.acknowledged(1, "x", 0); // not a voter
    assertThat(lease.holds(1, "a", five, 10)).isFalse();
    lease.acknowledged(1, "c", 5);
    assertThat(lease.holds(1, "a", five, 10)).isTrue();
    assertThat(lease.holds(1, "a", five, LEASE)).as("b's stamp is too old").isFalse();
  }

  @Test
  void a_leader_that_is_not_a_voter_counts_followers_only() {
    LeaderLease lease = new LeaderLease(LEASE);
    lease.acknowledged(1, "b", 0);
    assertThat(lease.holds(1, "z", THREE, 1)).isFalse();
    lease.acknowledged(1, "c", 0);
    assertThat(lease.holds(1, "z", THREE, 1)).isTrue();
  }

  @Test
  void an_older_stamp_never_replaces_a_newer_one_and_a_newer_term_starts_afresh() {
    LeaderLease lease = new LeaderLease(LEASE);
    lease.acknowledged(1, "b", 1_000);
    lease.acknowledged(1, "b", 10); // a late answer to an older append
    assertThat(lease.holds(1, "a", THREE, 1_000 + LEASE - 1)).isTrue();
    lease.acknowledged(2, "c", 2_000);
    assertThat(lease.holds(2, "a", THREE, 2_001)).isTrue();
    assertThat(lease.holds(1, "a", THREE, 2_001)).isFalse();
    lease.acknowledged(1, "b", 2_000); // a term that is over
    assertThat(lease.holds(1, "a", THREE, 2_001)).isFalse();
  }

  @Test
  void a_transfer_ends_the_lease_for_the_rest_of_its_term() {
    LeaderLease lease = new LeaderLease(LEASE);
    lease.acknowledged(3, "b", 0);
    lease.suspend(3);
    assertThat(lease.holds(3, "a", THREE, 1)).isFalse();
    lease.acknowledged(3, "b", 1);
    assertThat(lease.holds(3, "a", THREE, 2)).isFalse();
    lease.acknowledged(4, "b", 2);
    assertThat(lease.holds(4, "a", THREE, 3)).as("the next term").isTrue();
  }

  @Test
  void stamps_compare_across_the_sign_of_a_nano_clock() {
    LeaderLease lease = new LeaderLease(LEASE);
    long before = -500;
    lease.acknowledged(1, "b", before);
    lease.acknowledged(1, "b", before - 10);
    assertThat(lease.holds(1, "a", THREE, before + LEASE - 1)).isTrue();
    assertThat(lease.holds(1, "a", THREE, before + LEASE)).isFalse();
    LeaderLease wraps = new LeaderLease(LEASE);
    wraps.acknowledged(1, "b", Long.MAX_VALUE - 100);
    assertThat(wraps.holds(1, "a", THREE, Long.MAX_VALUE + 100)).as("after overflow").isTrue();
  }

  @Test
  void a_follower_echoes_the_newest_stamp_of_its_term_only() {
    LeaderLease lease = new LeaderLease(LEASE);
    assertThat(lease.echo(1)).isEqualTo(LeaderLease.NONE);
    lease.heard(1, 50);
    lease.heard(1, 40);
    assertThat(lease.echo(1)).isEqualTo(50);
    assertThat(lease.echo(2)).isEqualTo(LeaderLease.NONE);
    lease.heard(2, 7);
    assertThat(lease.echo(2)).isEqualTo(7);
    lease.heard(1, 99); // an append of a term that is over
    assertThat(lease.echo(2)).isEqualTo(7);
    assertThat(lease.echo(1)).isEqualTo(LeaderLease.NONE);
    lease.heard(2, LeaderLease.NONE);
    assertThat(lease.echo(2)).isEqualTo(7);
  }

  @Test
  void no_stamp_is_no_evidence() {
    LeaderLease lease = new LeaderLease(LEASE);
    lease.acknowledged(1, "b", LeaderLease.NONE);
    assertThat(lease.holds(1, "a", THREE, 0)).isFalse();
    assertThatThrownBy(() -> new LeaderLease(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
  }
}
