package io.keel.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TableAuthorityTest {
  private static final long R = TableAuthority.REASSERT_MS;

  @Test
  void a_table_at_the_newest_epoch_seen_is_current() {
    TableAuthority a = new TableAuthority();
    assertThat(a.current(0)).isTrue();
    a.saw(7, "abc", 1_000);
    assertThat(a.current(7)).isTrue();
    assertThat(a.current(8)).isTrue();
    assertThat(a.current(6)).isFalse();
  }

  @Test
  void a_node_whose_claim_names_a_list_it_no_longer_has_claims_again() {
    TableAuthority a = new TableAuthority();
    a.saw(4, "four", 1_000); // the others' list, adopted by this node too
    a.saw(5, "three", 1_001); // this node's own claim, asked for before its list grew
    assertThat(a.current(4)).isFalse();
    assertThat(a.claimedForListGone(5, "three", "four")).isTrue();
    assertThat(a.claimedForListGone(5, "three", "three")).as("still its list").isFalse();
    a.saw(6, "five", 1_002);
    assertThat(a.claimedForListGone(5, "three", "four")).as("a newer epoch came").isFalse();
  }

  @Test
  void an_older_entry_seen_late_does_not_replace_the_newest() {
    TableAuthority a = new TableAuthority();
    a.saw(9, "four", 1_000);
    a.saw(8, "three", 2_000);
    assertThat(a.newestEpoch()).isEqualTo(9);
    assertThat(a.current(8)).isFalse();
    // The newest is still 'four' since 1,000: a node with list 'three' claims after R.
    assertThat(a.shouldReassert(8, "three", true, 1_000 + R)).isTrue();
    assertThat(a.shouldReassert(8, "four", true, 1_000 + R)).isFalse();
  }

  @Test
  void only_a_data_node_behind_for_the_whole_wait_with_another_list_claims_an_epoch() {
    TableAuthority a = new TableAuthority();
    a.saw(10, "mine", 0);
    a.saw(11, "theirs", 5_000);
    assertThat(a.shouldReassert(10, "mine", true, 5_000 + R - 1)).isFalse();
    assertThat(a.shouldReassert(10, "mine", true, 5_000 + R)).isTrue();
    assertThat(a.shouldReassert(10, "mine", false, 5_000 + R)).as("a client node").isFalse();
    assertThat(a.shouldReassert(11, "mine", true, 5_000 + R)).as("already current").isFalse();
    assertThat(a.shouldReassert(10, "theirs", true, 5_000 + R))
        .as("same list: it adopts the epoch instead").isFalse();
  }

  @Test
  void a_newer_epoch_restarts_the_wait() {
    TableAuthority a = new TableAuthority();
    a.saw(11, "theirs", 0);
    a.saw(12, "others", R - 1);
    assertThat(a.shouldReassert(10, "mine", true, R)).isFalse();
    assertThat(a.shouldReassert(10, "mine", true, 2 * R - 1)).isTrue();
  }
}
