package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.microraft.RaftNodeStatus;
import org.junit.jupiter.api.Test;

/** Which states of a leader's Raft node take requests ({@link PartitionGroups#serving}). */
class PartitionGroupsServingTest {
  @Test
  void a_leader_serves_while_active_and_while_a_member_change_commits_and_not_otherwise() {
    assertThat(PartitionGroups.serving(RaftNodeStatus.ACTIVE)).isTrue();
    // MicroRaft appends ordinary entries during a change; refusing them paused the partition.
    assertThat(PartitionGroups.serving(RaftNodeStatus.UPDATING_RAFT_GROUP_MEMBER_LIST)).isTrue();
    for (RaftNodeStatus s : RaftNodeStatus.values()) {
      if (s != RaftNodeStatus.ACTIVE && s != RaftNodeStatus.UPDATING_RAFT_GROUP_MEMBER_LIST) {
        assertThat(PartitionGroups.serving(s)).as(s.name()).isFalse();
      }
    }
  }
}
