package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.microraft.RaftEndpoint;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.RaftMessage;
import io.microraft.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What a leader's early appends may carry, and when they must wait ({@link DurableSends}). */
class DurableSendsTest {
  private static final DefaultRaftModelFactory FACTORY = new DefaultRaftModelFactory();
  private static final RaftEndpoint LEADER = new NodeEndpoint("n1");
  private static final RaftEndpoint FOLLOWER = new NodeEndpoint("n2");

  private final List<AppendEntriesRequest> sent = new ArrayList<>();
  // The barrier the next send is given: the log's sync of everything written so far.
  private CompletableFuture<Void> barrier = new CompletableFuture<>();
  private final DurableSends sends = new DurableSends(new Transport() {
    @Override
    public void send(RaftEndpoint target, RaftMessage message) {
      sent.add((AppendEntriesRequest) message);
    }

    @Override
    public boolean isReachable(RaftEndpoint target) {
      return true;
    }
  }, () -> barrier, Runnable::run, FACTORY);

  @Test
  void a_leaders_first_appends_of_a_term_wait_until_the_term_is_on_disk() {
    sends.send(FOLLOWER, append(2, 0, 1, 0));
    sends.send(FOLLOWER, append(2, 1, 0, 0));
    assertThat(sent).as("the term may not be on disk yet").isEmpty();

    barrier.complete(null);
    assertThat(sent).extracting(AppendEntriesRequest::getPreviousLogIndex).containsExactly(0L, 1L);
  }

  @Test
  void once_the_term_is_on_disk_appends_leave_at_once_with_a_commit_index_the_disk_holds() {
    termOnDisk(2, 0);

    barrier = new CompletableFuture<>();
    CompletableFuture<Void> entryWritten = barrier;
    sends.send(FOLLOWER, append(2, 0, 1, 0));
    assertThat(sent).as("the entry leaves before the leader's own copy is synced").hasSize(2);

    // A follower acknowledged; the leader counted its own unsynced copy and commits 1.
    barrier = new CompletableFuture<>();
    sends.send(FOLLOWER, append(2, 1, 0, 1));
    assertThat(sent.get(2).getCommitIndex()).as("not on the leader's disk yet").isZero();

    entryWritten.complete(null);
    sends.send(FOLLOWER, append(2, 1, 0, 1));
    assertThat(sent.get(3).getCommitIndex()).as("the leader's disk holds entry 1 now")
        .isEqualTo(1);
  }

  @Test
  void what_the_disk_held_in_an_earlier_term_counts_for_nothing() {
    termOnDisk(2, 5);

    barrier = new CompletableFuture<>();
    sends.send(FOLLOWER, append(3, 5, 1, 5));
    assertThat(sent).as("term 3 may not be on disk; the log may have been cut since")
        .hasSize(1);

    barrier.complete(null);
    assertThat(sent).hasSize(2);
    assertThat(sent.get(1).getTerm()).isEqualTo(3);
    assertThat(sent.get(1).getCommitIndex()).isEqualTo(5);
  }

  @Test
  void a_commit_index_sent_once_its_barrier_completed_is_safe_whatever_the_log() {
    termOnDisk(2, 0);
    sends.send(FOLLOWER, append(2, 0, 0, 7)); // commit 7 learnt at once: barrier done
    barrier = new CompletableFuture<>();
    sends.send(FOLLOWER, append(2, 7, 1, 8));
    assertThat(sent.get(sent.size() - 1).getCommitIndex()).isEqualTo(7);
  }

  @Test
  void once_closed_nothing_leaves_not_even_an_append() {
    termOnDisk(2, 0);
    sends.close();
    sends.send(FOLLOWER, append(2, 0, 1, 0));
    assertThat(sent).hasSize(1);
  }

  /** A heartbeat of {@code term} whose barrier completes: the term is on disk to {@code last}. */
  private void termOnDisk(int term, long last) {
    barrier = CompletableFuture.completedFuture(null);
    sends.send(FOLLOWER, append(term, last, 0, 0));
    assertThat(sent).isNotEmpty();
  }

  /** An append of {@code count} entries after {@code prev}, with commit index {@code commit}. */
  private static AppendEntriesRequest append(int term, long prev, int count, long commit) {
    List<LogEntry> entries = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      entries.add(FACTORY.createLogEntryBuilder().setTerm(term).setIndex(prev + i)
          .setOperation("op").build());
    }
    return FACTORY.createAppendEntriesRequestBuilder().setGroupId("p0").setSender(LEADER)
        .setTerm(term).setPreviousLogTerm(term).setPreviousLogIndex(prev)
        .setCommitIndex(commit).setLogEntries(entries).setQuerySequenceNumber(0)
        .setFlowControlSequenceNumber(0).build();
  }
}
