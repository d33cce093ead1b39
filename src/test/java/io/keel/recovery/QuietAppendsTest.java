package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.microraft.RaftEndpoint;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.RaftMessage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which of a leader's appends {@link QuietAppends} drops, and which it always sends. */
class QuietAppendsTest {
  private static final DefaultRaftModelFactory FACTORY = new DefaultRaftModelFactory();
  private static final RaftEndpoint LEADER = new NodeEndpoint("n1");
  private static final RaftEndpoint F2 = new NodeEndpoint("n2");
  private static final RaftEndpoint F3 = new NodeEndpoint("n3");
  private static final long QUIET = 250;

  private final RecordingTransport out = new RecordingTransport();
  private final List<RaftMessage> sent = out.sent;
  private long now = 1_000;
  private final QuietAppends quiet = new QuietAppends(out, () -> now, QUIET);

  @Test
  void commit_news_right_after_an_append_is_dropped_and_a_later_heartbeat_leaves() {
    quiet.send(F2, append("p0", 5, 1, 5, 0));
    now += 2;
    // The append that only tells of the commit of entry 6.
    quiet.send(F2, append("p0", 6, 0, 6, 0));
    assertThat(sent).hasSize(1);
    assertThat(quiet.dropped()).isEqualTo(1);

    now += QUIET;
    quiet.send(F2, append("p0", 6, 0, 6, 0));
    assertThat(sent).as("a heartbeat after a quiet spell tells the commit").hasSize(2);
    assertThat(((AppendEntriesRequest) sent.get(1)).getCommitIndex()).isEqualTo(6);
  }

  @Test
  void entries_and_appends_that_await_an_answer_always_leave() {
    quiet.send(F2, append("p0", 5, 1, 5, 0));
    quiet.send(F2, append("p0", 6, 1, 6, 0));
    // A query round, or the search for a follower's log: MicroRaft waits for the answer.
    quiet.send(F2, append("p0", 7, 0, 6, 3));
    assertThat(sent).hasSize(3);
    assertThat(quiet.dropped()).isZero();
  }

  @Test
  void each_group_and_follower_is_timed_on_its_own() {
    quiet.send(F2, append("p0", 5, 1, 5, 0));
    quiet.send(F3, append("p0", 6, 0, 5, 0));
    quiet.send(F2, append("p1", 6, 0, 5, 0));
    assertThat(sent).as("n3 and group p1 heard nothing yet").hasSize(3);
    quiet.send(F3, append("p0", 6, 0, 6, 0));
    quiet.send(F2, append("p1", 6, 0, 6, 0));
    assertThat(sent).hasSize(3);
  }

  @Test
  void a_dropped_append_does_not_restart_the_quiet_spell() {
    quiet.send(F2, append("p0", 5, 1, 5, 0));
    for (int i = 0; i < 5; i++) {
      now += QUIET / 5;
      quiet.send(F2, append("p0", 6, 0, 6, 0));
    }
    assertThat(sent).as("the fifth leaves a full quiet spell after the entry").hasSize(2);
  }

  @Test
  void other_messages_pass() {
    quiet.send(F2, append("p0", 5, 1, 5, 0));
    RaftMessage vote = FACTORY.createVoteRequestBuilder().setGroupId("p0").setSender(LEADER)
        .setTerm(3).setLastLogTerm(3).setLastLogIndex(6).setSticky(false).build();
    quiet.send(F2, vote);
    assertThat(sent).hasSize(2);
  }

  private static AppendEntriesRequest append(String group, long prev, int count, long commit,
      long flowControl) {
    List<LogEntry> entries = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      entries.add(FACTORY.createLogEntryBuilder().setTerm(3).setIndex(prev + i)
          .setOperation("op").build());
    }
    return FACTORY.createAppendEntriesRequestBuilder().setGroupId(group).setSender(LEADER)
        .setTerm(3).setPreviousLogTerm(3).setPreviousLogIndex(prev).setCommitIndex(commit)
        .setLogEntries(entries).setQuerySequenceNumber(0)
        .setFlowControlSequenceNumber(flowControl).build();
  }
}
