package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.message.AppendEntriesSuccessResponse;
import io.microraft.model.message.RaftMessage;
import io.microraft.model.message.VoteRequest;
import io.microraft.persistence.NopRaftStore;
import io.microraft.transport.Transport;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A replica outside its group's voters never asks for votes, nor does one that still owes a
 * leader its vote (leader leases); every other message passes.
 */
class CampaignGuardTest {
  private final RaftModelFactory f = new DefaultRaftModelFactory();
  private final RaftEndpoint a = new NodeEndpoint("a");
  private final RaftEndpoint b = new NodeEndpoint("b");
  private final RecordingTransport recording = new RecordingTransport();
  private final List<RaftMessage> sent = recording.sent;

  /** A transport that records what it is given. */
  Transport recording() {
    return recording;
  }

  /** A node that is not started: only its local endpoint and members are read. */
  private RaftNode node(RaftEndpoint local, List<RaftEndpoint> initial) {
    return RaftNode.newBuilder().setGroupId(1).setLocalEndpoint(local)
        .setInitialGroupMembers(initial).setConfig(RaftConfig.DEFAULT_RAFT_CONFIG)
        .setTransport(recording).setStateMachine(new BusTransportIT.Sum())
        .setStore(new NopRaftStore()).setModelFactory(f).build();
  }

  private List<RaftMessage> requests(RaftEndpoint sender) {
    return List.of(
        f.createPreVoteRequestBuilder().setGroupId(1).setSender(sender).setTerm(2)
            .setLastLogTerm(1).setLastLogIndex(5).build(),
        f.createVoteRequestBuilder().setGroupId(1).setSender(sender).setTerm(2)
            .setLastLogTerm(1).setLastLogIndex(5).setSticky(false).build(),
        f.createAppendEntriesSuccessResponseBuilder().setGroupId(1).setSender(sender).setTerm(2)
            .setLastLogIndex(5).setQuerySequenceNumber(0).setFlowControlSequenceNumber(0).build());
  }

  @Test
  void a_replica_outside_the_voters_sends_no_vote_requests() {
    RaftNode learner = node(b, List.of(a));
    Transport guarded = new CampaignGuard(recording, g -> learner);
    for (RaftMessage m : requests(b)) {
      guarded.send(a, m);
    }
    assertThat(sent).hasSize(1).allMatch(m -> m.getClass().getSimpleName()
        .contains("AppendEntriesSuccessResponse"));
  }

  @Test
  void a_voter_that_heard_a_leader_within_the_timeout_asks_only_for_a_transfers_votes() {
    RaftNode voter = node(a, List.of(a, b));
    ((RaftNodeImpl) voter).leaderHeartbeatReceived();
    Transport guarded = new CampaignGuard(recording, g -> voter);
    RaftMessage sticky = f.createVoteRequestBuilder().setGroupId(1).setSender(a).setTerm(2)
        .setLastLogTerm(1).setLastLogIndex(5).setSticky(true).build();
    guarded.send(b, sticky);
    for (RaftMessage m : requests(a)) {
      guarded.send(b, m);
    }
    // Dropped: the sticky vote request and the pre-vote. Sent: the transfer's vote, the answer.
    assertThat(sent).hasSize(2);
    assertThat(sent.get(0)).isInstanceOfSatisfying(VoteRequest.class,
        v -> assertThat(v.isSticky()).isFalse());
    assertThat(sent.get(1)).isInstanceOf(AppendEntriesSuccessResponse.class);
  }

  @Test
  void a_voter_and_a_group_this_node_does_not_hold_pass_everything() {
    RaftNode voter = node(a, List.of(a, b));
    new CampaignGuard(recording, g -> voter).send(b, requests(a).get(1));
    new CampaignGuard(recording, g -> null).send(b, requests(a).get(0));
    assertThat(sent).hasSize(2);
  }
}
