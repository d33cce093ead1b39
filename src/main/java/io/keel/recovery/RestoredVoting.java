package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.groupop.UpdateRaftGroupMembersOp;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotEntry;
import io.microraft.model.persistence.RaftEndpointPersistentState;
import io.microraft.persistence.RestoredRaftState;
import java.util.Collection;

/**
 * Makes a restored Raft node's voting flag agree with the membership its restored log implies.
 *
 * <p>Implementation notes. MicroRaft 0.7 restores a node as a voting follower or as a learner
 * from the flag last passed to {@code persistAndFlushLocalEndpoint}, which it persists when a
 * promotion entry is appended, before that entry is committed. If the entry is later truncated
 * (a new leader never had it) and the node restarts, it comes back voting while the group still
 * counts it a learner: it runs elections and counts its own vote, and two leaders can win the
 * same term. The deterministic simulation found this (membership seed 1632). The membership a
 * node should act on is the last one in its restored log (or snapshot, or initial members), so
 * every {@code RaftStore} restore passes its state through {@link #reconcile}.
 */
final class RestoredVoting {

  private RestoredVoting() {
  }

  /** The restored state, with the voting flag taken from the restored membership. */
  static RestoredRaftState reconcile(RestoredRaftState restored, RaftModelFactory factory) {
    RaftEndpointPersistentState endpoint = restored.getLocalEndpointPersistentState();
    RaftEndpoint local = endpoint.getLocalEndpoint();
    Collection<RaftEndpoint> voting = restored.getInitialGroupMembers().getVotingMembers();
    if (restored.getSnapshotEntry() != null
        && restored.getSnapshotEntry().getGroupMembersView() != null) {
      voting = restored.getSnapshotEntry().getGroupMembersView().getVotingMembers();
    }
    for (LogEntry entry : restored.getLogEntries()) {
      if (entry.getOperation() instanceof UpdateRaftGroupMembersOp op) {
        voting = op.getVotingMembers();
      }
    }
    boolean isVoting = voting.contains(local);
    RaftGroupMembersView initial = initialAsSnapshot(restored, local, factory);
    if (isVoting == endpoint.isVoting() && initial == restored.getInitialGroupMembers()) {
      return restored;
    }
    RaftEndpointPersistentState fixed = factory.createRaftEndpointPersistentStateBuilder()
        .setLocalEndpoint(local).setVoting(isVoting).build();
    return new RestoredRaftState(fixed, initial, restored.getTermPersistentState(),
        restored.getSnapshotEntry(), restored.getLogEntries());
  }

  /**
   * The initial members to restore with: the snapshot's membership (at log index 0) when the
   * local replica's voting differs between the two, else the initial members as they are.
   * MicroRaft 0.7 installs the snapshot's membership in the constructor of the restored state,
   * before its model factory is set, so that promoting or demoting the local replica there
   * fails with a {@code NullPointerException} and the replica cannot restart (a learner invited
   * with the group's initial members, promoted, then restarted from a snapshot: membership seed
   * 1380). The initial members matter only until the snapshot's replace them, which is at once.
   */
  private static RaftGroupMembersView initialAsSnapshot(RestoredRaftState restored,
      RaftEndpoint local, RaftModelFactory factory) {
    RaftGroupMembersView initial = restored.getInitialGroupMembers();
    SnapshotEntry snapshot = restored.getSnapshotEntry();
    if (snapshot == null || snapshot.getGroupMembersView() == null) {
      return initial;
    }
    RaftGroupMembersView view = snapshot.getGroupMembersView();
    if (initial.getVotingMembers().contains(local) == view.getVotingMembers().contains(local)) {
      return initial;
    }
    return factory.createRaftGroupMembersViewBuilder().setLogIndex(0)
        .setMembers(view.getMembers()).setVotingMembers(view.getVotingMembers()).build();
  }
}
