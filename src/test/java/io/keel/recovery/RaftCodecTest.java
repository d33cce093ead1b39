package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microraft.MembershipChangeMode;
import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.InstallSnapshotRequest;
import io.microraft.model.message.RaftMessage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RaftCodecTest {
  private static final Object NEW_TERM = new Object() {
    @Override
    public String toString() {
      return "new-term";
    }
  };
  private final RaftModelFactory f = new DefaultRaftModelFactory();
  private final RaftCodec codec = new RaftCodec(f, NodeEndpoint::new, Map.of((byte) 1, NEW_TERM));
  private final RaftEndpoint a = new NodeEndpoint("a");
  private final RaftEndpoint b = new NodeEndpoint("b");

  private LogEntry entry(long index, Object op) {
    return f.createLogEntryBuilder().setIndex(index).setTerm(3).setOperation(op).build();
  }

  private RaftGroupMembersView view() {
    return f.createRaftGroupMembersViewBuilder().setLogIndex(9).setMembers(List.of(a, b))
        .setVotingMembers(List.of(a)).build();
  }

  private List<RaftMessage> everyMessage() {
    List<LogEntry> entries = List.of(
        entry(5, "cmd".getBytes(StandardCharsets.UTF_8)), entry(6, null), entry(7, NEW_TERM),
        entry(8, f.createUpdateRaftGroupMembersOpBuilder().setMembers(List.of(a, b))
            .setVotingMembers(List.of(a, b)).setEndpoint(b)
            .setMode(MembershipChangeMode.ADD_LEARNER).build()));
    return List.of(
        f.createAppendEntriesRequestBuilder().setGroupId(17).setSender(a).setTerm(3)
            .setPreviousLogTerm(2).setPreviousLogIndex(4).setCommitIndex(4)
            .setLogEntries(entries).setQuerySequenceNumber(11).setFlowControlSequenceNumber(12)
            .build(),
        f.createAppendEntriesSuccessResponseBuilder().setGroupId(17).setSender(b).setTerm(3)
            .setLastLogIndex(8).setQuerySequenceNumber(11).setFlowControlSequenceNumber(12)
            .build(),
        f.createAppendEntriesFailureResponseBuilder().setGroupId(17).setSender(b).setTerm(3)
            .setExpectedNextIndex(2).setQuerySequenceNumber(1).setFlowControlSequenceNumber(2)
            .build(),
        f.createInstallSnapshotRequestBuilder().setGroupId("g").setSender(a).setTerm(4)
            .setSenderLeader(true).setSnapshotTerm(3).setSnapshotIndex(100)
            .setTotalSnapshotChunkCount(2)
            .setSnapshotChunk(f.createSnapshotChunkBuilder().setIndex(100).setTerm(3)
                .setOperation(new byte[] {1, 2, 3}).setSnapshotChunkIndex(1)
                .setSnapshotChunkCount(2).setGroupMembersView(view()).build())
            .setSnapshottedMembers(List.of(a, b)).setGroupMembersView(view())
            .setQuerySequenceNumber(5).setFlowControlSequenceNumber(6).build(),
        f.createInstallSnapshotResponseBuilder().setGroupId(7L).setSender(b).setTerm(4)
            .setSnapshotIndex(100).setRequestedSnapshotChunkIndex(1).setQuerySequenceNumber(5)
            .setFlowControlSequenceNumber(6).build(),
        f.createPreVoteRequestBuilder().setGroupId(1).setSender(a).setTerm(5).setLastLogTerm(4)
            .setLastLogIndex(10).build(),
        f.createPreVoteResponseBuilder().setGroupId(1).setSender(b).setTerm(5).setGranted(true)
            .build(),
        f.createTriggerLeaderElectionRequestBuilder().setGroupId(1).setSender(a).setTerm(5)
            .setLastLogTerm(4).setLastLogIndex(10).build(),
        f.createVoteRequestBuilder().setGroupId(1).setSender(a).setTerm(6).setLastLogTerm(5)
            .setLastLogIndex(11).setSticky(true).build(),
        f.createVoteResponseBuilder().setGroupId(1).setSender(b).setTerm(6).setGranted(false)
            .build());
  }

  @Test
  void every_message_type_survives_a_round_trip() {
    List<RaftMessage> all = everyMessage();
    assertThat(all).extracting(m -> RaftCodec.tagOf(m)).doesNotHaveDuplicates().hasSize(10);
    for (RaftMessage m : all) {
      byte[] bytes = codec.encode(m);
      RaftMessage back = codec.decode(bytes);
      assertThat(back.getClass()).isEqualTo(m.getClass());
      // byte[] print as identities: their contents are compared by re-encoding below.
      assertThat(back.toString().replaceAll("\\[B@[0-9a-f]+", "[B"))
          .as("%s", m.getClass().getSimpleName())
          .isEqualTo(m.toString().replaceAll("\\[B@[0-9a-f]+", "[B"));
      assertThat(codec.encode(back)).isEqualTo(bytes);
      assertThat(back.getSender()).isEqualTo(m.getSender());
      assertThat(back.getGroupId()).isEqualTo(m.getGroupId());
      assertThat(back.getTerm()).isEqualTo(m.getTerm());
    }
  }

  @Test
  void log_entries_keep_index_term_and_operation() {
    AppendEntriesRequest r = (AppendEntriesRequest) codec.decode(codec.encode(everyMessage()
        .get(0)));
    List<LogEntry> entries = r.getLogEntries();
    assertThat(entries).extracting(LogEntry::getIndex).containsExactly(5L, 6L, 7L, 8L);
    assertThat(new String((byte[]) entries.get(0).getOperation(), StandardCharsets.UTF_8))
        .isEqualTo("cmd");
    assertThat(entries.get(1).getOperation()).isNull();
    assertThat(entries.get(2).getOperation()).isSameAs(NEW_TERM);
    LogEntry one = codec.decodeEntry(codec.encodeEntry(entries.get(0)));
    assertThat(one.getIndex()).isEqualTo(5);
    assertThat(one.getTerm()).isEqualTo(3);
  }

  @Test
  void snapshot_chunks_keep_their_members_view() {
    InstallSnapshotRequest r = (InstallSnapshotRequest) codec.decode(codec.encode(
        everyMessage().get(3)));
    assertThat((byte[]) r.getSnapshotChunk().getOperation()).containsExactly(1, 2, 3);
    assertThat(r.getSnapshotChunk().getGroupMembersView().getMembers()).containsExactly(a, b);
    assertThat(r.getGroupMembersView().getVotingMembers()).containsExactly(a);
  }

  @Test
  void unknown_operations_and_garbage_are_refused() {
    assertThatThrownBy(() -> codec.encodeEntry(entry(1, "a string")))
        .hasMessageContaining("no encoding for operation java.lang.String");
    assertThatThrownBy(() -> codec.decode(new byte[] {99, 1, 0, 0, 0, 1}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> codec.decodeEntry(new byte[] {1}))
        .hasMessageContaining("not a log entry");
  }
}
