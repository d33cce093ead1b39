package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microraft.MembershipChangeMode;
import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.log.SnapshotEntry;
import io.microraft.persistence.NopRaftStore;
import io.microraft.persistence.RestoredRaftState;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A replica invited with the group's initial members (which do not hold it), promoted, caught
 * in a snapshot as a voter, then restarted with its removal appended after the snapshot:
 * MicroRaft 0.7 cannot build it as a learner as it is, and can once reconciled.
 */
class RestoredVotingTest {
  private final RaftModelFactory f = new DefaultRaftModelFactory();
  private final RaftEndpoint a = new NodeEndpoint("a");
  private final RaftEndpoint b = new NodeEndpoint("b");

  private RaftGroupMembersView view(long index, List<RaftEndpoint> members) {
    return f.createRaftGroupMembersViewBuilder().setLogIndex(index).setMembers(members)
        .setVotingMembers(members).build();
  }

  private RestoredRaftState promotedThenSnapshotted(boolean voting) {
    RaftGroupMembersView both = view(7, List.of(a, b));
    SnapshotChunk chunk = f.createSnapshotChunkBuilder().setIndex(10).setTerm(2)
        .setOperation(new byte[8]).setSnapshotChunkIndex(0).setSnapshotChunkCount(1)
        .setGroupMembersView(both).build();
    SnapshotEntry snapshot = f.createSnapshotEntryBuilder().setIndex(10).setTerm(2)
        .setSnapshotChunks(List.of(chunk)).setGroupMembersView(both).build();
    return new RestoredRaftState(
        f.createRaftEndpointPersistentStateBuilder().setLocalEndpoint(b).setVoting(voting)
            .build(),
        view(0, List.of(a)),
        f.createRaftTermPersistentStateBuilder().setTerm(2).setVotedFor(null).build(),
        snapshot, List.of(f.createLogEntryBuilder().setIndex(11).setTerm(2).setOperation(
            f.createUpdateRaftGroupMembersOpBuilder().setMembers(List.of(a))
                .setVotingMembers(List.of(a)).setEndpoint(b)
                .setMode(MembershipChangeMode.REMOVE_MEMBER).build()).build()));
  }

  private RaftNode build(RestoredRaftState state) {
    return RaftNode.newBuilder().setGroupId(1).setRestoredState(state)
        .setConfig(RaftConfig.DEFAULT_RAFT_CONFIG).setTransport(new CampaignGuardTest()
            .recording()).setStateMachine(new BusTransportIT.Sum())
        .setStore(new NopRaftStore()).setModelFactory(f).build();
  }

  @Test
  void the_initial_members_become_the_snapshots_when_the_replica_votes_only_there() {
    RestoredRaftState fixed = RestoredVoting.reconcile(promotedThenSnapshotted(true), f);
    // The last membership in the log removes b: it restarts as a non-voter.
    assertThat(fixed.getLocalEndpointPersistentState().isVoting()).isFalse();
    assertThat(fixed.getInitialGroupMembers().getLogIndex()).isZero();
    assertThat(fixed.getInitialGroupMembers().getVotingMembers()).containsExactly(a, b);
    RaftNode node = build(fixed);
    assertThat(node.getLocalEndpoint()).isEqualTo(b);
  }

  @Test
  void microraft_cannot_restore_it_as_it_is() {
    // When this fails, MicroRaft restores such a replica itself.
    assertThatThrownBy(() -> build(promotedThenSnapshotted(false)))
        .isInstanceOf(NullPointerException.class);
  }
}
