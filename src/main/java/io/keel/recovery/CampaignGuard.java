package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.model.message.PreVoteRequest;
import io.microraft.model.message.RaftMessage;
import io.microraft.model.message.VoteRequest;
import io.microraft.transport.Transport;
import java.util.function.Function;

/**
 * A transport that keeps a replica from campaigning once its own log removes it from the
 * group's voters, and while it still owes a leader its vote: its pre-vote and vote requests
 * are dropped, as a network may drop them.
 *
 * <p>Why. MicroRaft 0.7 lets a replica with an uncommitted removal of itself in its log win an
 * election; it then commits the removal, applies it (and turns TERMINATED) and goes on applying
 * the entries after it in the same loop, which spins forever once it reaches a multiple of
 * {@code commitCountToTakeSnapshot} ({@code RaftNodeImpl.applyLogEntries} takes no snapshot on a
 * terminated node, so its bound never moves): membership seed 1040 of the simulation. Dropping
 * requests is always safe in Raft; the cost is liveness in one corner: when only the leaving
 * replica could win, the group waits for another voter to come back.
 *
 * <p>Owing its vote. A leader lease ({@link LeaderLease}) counts on every follower that heard
 * the leader within a heartbeat timeout to help elect nobody else, itself included. MicroRaft
 * 0.7 refuses others' requests in that time, but campaigns itself when it starts, and again
 * after a failed pre-vote once something cleared its leader (a newer term seen in a refusal).
 * So a replica sends its own pre-vote and vote requests only once it has not heard a leader
 * for the heartbeat timeout; a replica restored from disk counts as having heard one when it
 * starts ({@link LeaseReads#restored}). Requests of a leadership transfer (not sticky) go: the
 * leader that asked for it gave up its lease first. MicroRaft retries a pre-vote every
 * election timeout, so a dropped one costs at most that much once the timeout is over.
 */
public final class CampaignGuard implements Transport {
  private final Transport inner;
  private final Function<Object, RaftNode> nodes;

  /**
   * Guards {@code inner}; {@code nodes} gives the local Raft node of a group id (null when this
   * node holds none).
   */
  public CampaignGuard(Transport inner, Function<Object, RaftNode> nodes) {
    this.inner = inner;
    this.nodes = nodes;
  }

  @Override
  public void send(RaftEndpoint target, RaftMessage message) {
    if (message instanceof PreVoteRequest || message instanceof VoteRequest) {
      RaftNode node = nodes.apply(message.getGroupId());
      if (node != null && !node.getEffectiveMembers().getVotingMembers()
          .contains(node.getLocalEndpoint())) {
        return;
      }
      boolean sticky = !(message instanceof VoteRequest vote) || vote.isSticky();
      if (sticky && node instanceof RaftNodeImpl impl && !impl.isLeaderHeartbeatTimeoutElapsed()) {
        return; // it still owes a leader its vote
      }
    }
    inner.send(target, message);
  }

  @Override
  public boolean isReachable(RaftEndpoint endpoint) {
    return inner.isReachable(endpoint);
  }
}
