package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.model.message.PreVoteRequest;
import io.microraft.model.message.RaftMessage;
import io.microraft.model.message.VoteRequest;
import io.microraft.transport.Transport;
import java.util.function.Function;

/**
 * A transport that keeps a replica from campaigning once its own log removes it from the
 * group's voters: its pre-vote and vote requests are dropped, as a network may drop them.
 *
 * <p>Why. MicroRaft 0.7 lets a replica with an uncommitted removal of itself in its log win an
 * election; it then commits the removal, applies it (and turns TERMINATED) and goes on applying
 * the entries after it in the same loop, which spins forever once it reaches a multiple of
 * {@code commitCountToTakeSnapshot} ({@code RaftNodeImpl.applyLogEntries} takes no snapshot on a
 * terminated node, so its bound never moves): membership seed 1040 of the simulation. Dropping
 * requests is always safe in Raft; the cost is liveness in one corner: when only the leaving
 * replica could win, the group waits for another voter to come back.
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
    }
    inner.send(target, message);
  }

  @Override
  public boolean isReachable(RaftEndpoint endpoint) {
    return inner.isReachable(endpoint);
  }
}
