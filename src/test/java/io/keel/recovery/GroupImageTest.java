package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.recovery.StoreRecord.Kind;
import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.persistence.RestoredRaftState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Replaying store records rebuilds a group's restored state by MicroRaft's store rules. */
class GroupImageTest {
  private final RaftModelFactory f = new DefaultRaftModelFactory();
  private final RaftCodec codec = new RaftCodec(f, NodeEndpoint::new, Map.of());
  private final RaftEndpoint a = new NodeEndpoint("a");
  private final RaftEndpoint b = new NodeEndpoint("b");

  /** Every record goes through its byte form, as it would through the log. */
  private GroupImage replay(StoreRecord... records) {
    GroupImage image = new GroupImage(7, f);
    for (StoreRecord r : records) {
      image.apply(StoreRecord.decode(codec, r.encode(codec)));
    }
    return image;
  }

  private StoreRecord entries(long from, long to) {
    List<LogEntry> list = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      list.add(f.createLogEntryBuilder().setIndex(i).setTerm(1)
          .setOperation(new byte[] {(byte) i}).build());
    }
    return new StoreRecord(Kind.ENTRIES, 7, list);
  }

  private RaftGroupMembersView view() {
    return f.createRaftGroupMembersViewBuilder().setLogIndex(0).setMembers(List.of(a, b))
        .setVotingMembers(List.of(a, b)).build();
  }

  private StoreRecord chunk(long index, int chunkIndex, int count) {
    SnapshotChunk c = f.createSnapshotChunkBuilder().setIndex(index).setTerm(2)
        .setOperation(new byte[] {(byte) chunkIndex}).setSnapshotChunkIndex(chunkIndex)
        .setSnapshotChunkCount(count).setGroupMembersView(view()).build();
    return new StoreRecord(Kind.SNAPSHOT_CHUNK, 7, c);
  }

  private StoreRecord[] started() {
    return new StoreRecord[] {
        new StoreRecord(Kind.ENDPOINT, 7, f.createRaftEndpointPersistentStateBuilder()
            .setLocalEndpoint(a).setVoting(true).build()),
        new StoreRecord(Kind.INITIAL_MEMBERS, 7, view()),
        new StoreRecord(Kind.TERM, 7, f.createRaftTermPersistentStateBuilder().setTerm(3)
            .setVotedFor(b).build())};
  }

  private StoreRecord[] with(StoreRecord... more) {
    List<StoreRecord> all = new ArrayList<>(List.of(started()));
    all.addAll(List.of(more));
    return all.toArray(new StoreRecord[0]);
  }

  private static List<Long> indices(RestoredRaftState s) {
    return s.getLogEntries().stream().map(LogEntry::getIndex).toList();
  }

  @Test
  void a_group_never_started_has_no_restored_state() {
    assertThat(replay(entries(1, 3)).restored()).isNull();
  }

  @Test
  void endpoint_members_term_and_entries_are_restored() {
    RestoredRaftState s = replay(with(entries(1, 3), entries(4, 5))).restored();
    assertThat(s.getLocalEndpointPersistentState().getLocalEndpoint()).isEqualTo(a);
    assertThat(s.getLocalEndpointPersistentState().isVoting()).isTrue();
    assertThat(s.getInitialGroupMembers().getMembers()).containsExactly(a, b);
    assertThat(s.getTermPersistentState().getTerm()).isEqualTo(3);
    assertThat(s.getTermPersistentState().getVotedFor()).isEqualTo(b);
    assertThat(indices(s)).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat((byte[]) s.getLogEntries().get(2).getOperation()).containsExactly(3);
    assertThat(s.getSnapshotEntry()).isNull();
  }

  @Test
  void truncate_from_drops_an_overwritten_suffix() {
    RestoredRaftState s = replay(with(entries(1, 5),
        new StoreRecord(Kind.TRUNCATE_FROM, 7, 4L), entries(4, 6))).restored();
    assertThat(indices(s)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
  }

  @Test
  void a_complete_snapshot_replaces_the_entries_it_covers() {
    RestoredRaftState s = replay(with(entries(1, 6), chunk(4, 1, 2), chunk(4, 0, 2)))
        .restored();
    assertThat(s.getSnapshotEntry().getIndex()).isEqualTo(4);
    assertThat(s.getSnapshotEntry().getSnapshotChunkCount()).isEqualTo(2);
    assertThat(indices(s)).containsExactly(5L, 6L);
  }

  @Test
  void an_incomplete_or_deleted_snapshot_changes_nothing() {
    RestoredRaftState s = replay(with(entries(1, 6), chunk(4, 0, 2))).restored();
    assertThat(s.getSnapshotEntry()).isNull();
    assertThat(indices(s)).hasSize(6);
    RestoredRaftState d = replay(with(entries(1, 6), chunk(4, 0, 2),
        new StoreRecord(Kind.DELETE_SNAPSHOT_CHUNKS, 7, new long[] {4, 2}), chunk(4, 1, 2)))
        .restored();
    assertThat(d.getSnapshotEntry()).isNull();
  }

  @Test
  void truncate_until_drops_a_prefix() {
    RestoredRaftState s = replay(with(entries(1, 6),
        new StoreRecord(Kind.TRUNCATE_UNTIL, 7, 3L))).restored();
    assertThat(indices(s)).containsExactly(4L, 5L, 6L);
  }

  @Test
  void entries_after_a_snapshot_continue_from_its_index() {
    GroupImage image = replay(with(chunk(10, 0, 1), entries(11, 12)));
    assertThat(image.lastIndex()).isEqualTo(12);
    assertThatThrownBy(() -> image.apply(entries(14, 14)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("group 7: log entry 14 follows 12");
  }

  @Test
  void a_record_of_another_group_is_refused() {
    assertThatThrownBy(() -> new GroupImage(1, f).apply(entries(1, 1)))
        .hasMessageContaining("record of group 7 applied to group 1");
  }

  @Test
  void garbage_is_not_a_store_record() {
    assertThatThrownBy(() -> StoreRecord.decode(codec, new byte[] {42}))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Replays {@code records} as log records from LSN {@code firstLsn} on. */
  private RaftLogReplay replayLog(long firstLsn, StoreRecord... records) {
    RaftLogReplay replay = new RaftLogReplay(codec, f);
    long lsn = firstLsn;
    for (StoreRecord r : records) {
      replay.accept(new WalRecord(lsn++, RaftLogStore.RECORD_TYPE, r.encode(codec)));
    }
    return replay;
  }

  private StoreRecord mark(Kind kind) {
    return new StoreRecord(kind, 7, null);
  }

  private StoreRecord[] concat(StoreRecord[]... parts) {
    List<StoreRecord> all = new ArrayList<>();
    for (StoreRecord[] p : parts) {
      all.addAll(List.of(p));
    }
    return all.toArray(new StoreRecord[0]);
  }

  private StoreRecord[] copyOf(GroupImage image) {
    List<StoreRecord> out = new ArrayList<>();
    out.add(mark(Kind.CHECKPOINT_BEGIN));
    out.addAll(image.copy(2));
    out.add(mark(Kind.CHECKPOINT_END));
    return out.toArray(new StoreRecord[0]);
  }

  @Test
  void a_checkpoint_copy_rebuilds_the_same_image() {
    StoreRecord[] log = with(entries(1, 5), chunk(3, 0, 1), entries(6, 9), chunk(12, 0, 2));
    GroupImage original = replay(log);
    RaftLogReplay replay = replayLog(1, concat(log, copyOf(original)));
    RestoredRaftState s = replay.images().get(7).restored();
    assertThat(indices(s)).containsExactly(4L, 5L, 6L, 7L, 8L, 9L);
    assertThat(s.getSnapshotEntry().getIndex()).isEqualTo(3);
    assertThat(s.getTermPersistentState().getVotedFor()).isEqualTo(b);
    // The copy starts at its BEGIN mark: everything before it may be deleted.
    assertThat(replay.neededFrom(7)).isEqualTo(log.length + 1);
    // The pending chunk was copied too: its second half completes the snapshot at 12.
    GroupImage rebuilt = replay.images().get(7);
    rebuilt.apply(chunk(12, 1, 2));
    assertThat(rebuilt.restored().getSnapshotEntry().getIndex()).isEqualTo(12);
  }

  @Test
  void a_checkpoint_cut_short_changes_nothing() {
    StoreRecord[] log = with(entries(1, 5));
    StoreRecord[] copy = copyOf(replay(log));
    StoreRecord[] torn = java.util.Arrays.copyOf(copy, copy.length - 2); // no END
    RaftLogReplay replay = replayLog(1, concat(log, torn, new StoreRecord[] {entries(6, 7)}));
    assertThat(indices(replay.images().get(7).restored())).containsExactly(1L, 2L, 3L, 4L, 5L,
        6L, 7L);
    assertThat(replay.neededFrom(7)).isEqualTo(1);
  }

  @Test
  void after_compaction_a_headless_tail_is_never_restored_and_breaks_nothing() {
    // The log starts mid-way: the group's first retained records are a tail whose start was
    // deleted, and a gap in it is no corruption. A FORGET then starts a whole image.
    RaftLogReplay tail = replayLog(40, entries(6, 7), chunk(20, 1, 2), entries(21, 22));
    assertThat(tail.images()).isEmpty();
    assertThat(tail.neededFrom(7)).isEqualTo(Long.MAX_VALUE);

    RaftLogReplay replay = replayLog(40, concat(new StoreRecord[] {entries(6, 7),
        entries(21, 22), mark(Kind.FORGET)}, with(entries(1, 2))));
    assertThat(indices(replay.images().get(7).restored())).containsExactly(1L, 2L);
    assertThat(replay.neededFrom(7)).isEqualTo(42);
  }

  @Test
  void a_whole_image_that_breaks_a_rule_stops_replay_naming_the_lsn() {
    assertThatThrownBy(() -> replayLog(1, with(entries(1, 2), entries(4, 4))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("write-ahead log record 5")
        .hasMessageContaining("gap");
  }
}
