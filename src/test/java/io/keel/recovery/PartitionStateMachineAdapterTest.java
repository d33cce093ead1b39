package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.bus.Failure;
import io.keel.recovery.PartitionStateMachineAdapter.NewTermOperation;
import io.keel.recovery.PartitionStateMachineAdapter.Query;
import io.microraft.exception.CannotReplicateException;
import io.microraft.exception.IndeterminateStateException;
import io.microraft.exception.NotLeaderException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class PartitionStateMachineAdapterTest {

  /** Appends every command to a string; the snapshot is that string. */
  private static final class Journal implements PartitionStateMachine {
    final StringBuilder text = new StringBuilder();
    final List<Long> newTerms = new ArrayList<>();

    @Override
    public byte[] apply(long index, byte[] command) {
      text.append(new String(command, StandardCharsets.UTF_8));
      return Long.toString(index).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] query(byte[] query) {
      return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] takeSnapshot(long index) {
      return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void installSnapshot(long index, byte[] snapshot) {
      text.setLength(0);
      text.append(new String(snapshot, StandardCharsets.UTF_8));
    }

    @Override
    public void onNewTerm(long index) {
      newTerms.add(index);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void commands_queries_and_new_term_entries_reach_the_right_method() {
    Journal journal = new Journal();
    PartitionStateMachineAdapter adapter = new PartitionStateMachineAdapter(journal);
    assertThat(adapter.runOperation(1, adapter.getNewTermOperation())).isNull();
    assertThat((byte[]) adapter.runOperation(2, utf8("ab"))).isEqualTo(utf8("2"));
    assertThat((byte[]) adapter.runOperation(2, new Query(utf8("?")))).isEqualTo(utf8("ab"));
    assertThat(journal.newTerms).containsExactly(1L);
    assertThat(adapter.getNewTermOperation()).isSameAs(NewTermOperation.INSTANCE);
  }

  @Test
  void an_unknown_operation_is_refused_with_its_index() {
    PartitionStateMachineAdapter adapter = new PartitionStateMachineAdapter(new Journal());
    assertThatThrownBy(() -> adapter.runOperation(7, "text"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("index 7");
  }

  @Test
  void snapshots_are_chunked_and_reassembled() {
    Journal source = new Journal();
    PartitionStateMachineAdapter adapter = new PartitionStateMachineAdapter(source, 4);
    adapter.runOperation(1, utf8("0123456789"));
    List<Object> chunks = new ArrayList<>();
    adapter.takeSnapshot(1, chunks::add);
    assertThat(chunks).hasSize(3);

    Journal target = new Journal();
    new PartitionStateMachineAdapter(target, 4).installSnapshot(1, chunks);
    assertThat(target.text.toString()).isEqualTo("0123456789");
  }

  @Test
  void an_empty_snapshot_is_one_empty_chunk() {
    List<Object> chunks = new ArrayList<>();
    new PartitionStateMachineAdapter(new Journal(), 4).takeSnapshot(1, chunks::add);
    assertThat(chunks).hasSize(1);
    assertThat((byte[]) chunks.get(0)).isEmpty();
  }

  @Test
  void raft_failures_map_to_keel_codes() {
    NotLeaderException notLeader = new NotLeaderException(new NodeEndpoint("a"),
        new NodeEndpoint("b"));
    assertThat(RaftFailures.classify(new CompletionException(notLeader)))
        .isEqualTo(Failure.NOT_OWNER);
    assertThat(RaftFailures.leader(notLeader)).isEqualTo(new NodeEndpoint("b"));
    assertThat(RaftFailures.indeterminate(notLeader)).isFalse();
    CannotReplicateException busy = new CannotReplicateException(null);
    assertThat(RaftFailures.classify(busy)).isEqualTo(Failure.UNAVAILABLE);
    assertThat(RaftFailures.indeterminate(busy)).isFalse();
    IndeterminateStateException unknown = new IndeterminateStateException();
    assertThat(RaftFailures.classify(unknown)).isEqualTo(Failure.UNAVAILABLE);
    assertThat(RaftFailures.indeterminate(unknown)).isTrue();
  }
}
