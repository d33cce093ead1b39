package io.keel.recovery;

import io.microraft.model.RaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.log.SnapshotEntry;
import io.microraft.model.persistence.RaftEndpointPersistentState;
import io.microraft.model.persistence.RaftTermPersistentState;
import io.microraft.persistence.RestoredRaftState;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * One Raft group's durable state, rebuilt by replaying its {@link StoreRecord}s in the order
 * they were written: what MicroRaft needs to restart the group ({@link #restored()}).
 *
 * <p>Implementation notes. The rules are those of MicroRaft's {@code RaftStore} contract:
 * entries are appended with consecutive indices; a snapshot is complete when all of its chunks
 * are present, and then replaces every entry up to its index; {@code truncateFrom(i)} drops
 * entries at and after {@code i} (an uncommitted suffix a new leader overwrote);
 * {@code truncateUntil(i)} drops entries up to {@code i}; deleting a snapshot's chunks abandons
 * an incomplete snapshot. A record that breaks a rule (a gap in indices, say) means the log is
 * not what this node wrote, and replay stops with an error rather than guessing. Pure and
 * single-threaded.
 */
public final class GroupImage {
  private final int groupId;
  private final RaftModelFactory factory;
  private RaftEndpointPersistentState endpoint;
  private RaftGroupMembersView initialMembers;
  private RaftTermPersistentState term;
  private SnapshotEntry snapshot;
  private List<SnapshotChunk> snapshotChunks = List.of();
  // Invariant: entries hold consecutive indices, all greater than the snapshot's index.
  private final List<LogEntry> entries = new ArrayList<>();
  private final TreeMap<Long, TreeMap<Integer, SnapshotChunk>> pendingChunks = new TreeMap<>();

  /** An empty image of group {@code groupId}. */
  public GroupImage(int groupId, RaftModelFactory factory) {
    this.groupId = groupId;
    this.factory = factory;
  }

  /** Applies one record of this group. */
  @SuppressWarnings("unchecked")
  public void apply(StoreRecord r) {
    if (r.groupId() != groupId) {
      throw new IllegalArgumentException("record of group " + r.groupId() + " applied to group "
          + groupId);
    }
    switch (r.kind()) {
      case ENDPOINT:
        endpoint = (RaftEndpointPersistentState) r.body();
        break;
      case INITIAL_MEMBERS:
        initialMembers = (RaftGroupMembersView) r.body();
        break;
      case TERM:
        term = (RaftTermPersistentState) r.body();
        break;
      case ENTRIES:
        for (LogEntry e : (List<LogEntry>) r.body()) {
          append(e);
        }
        break;
      case SNAPSHOT_CHUNK:
        addChunk((SnapshotChunk) r.body());
        break;
      case TRUNCATE_FROM:
        long from = (Long) r.body();
        entries.removeIf(e -> e.getIndex() >= from);
        break;
      case TRUNCATE_UNTIL:
        long until = (Long) r.body();
        entries.removeIf(e -> e.getIndex() <= until);
        break;
      case DELETE_SNAPSHOT_CHUNKS:
        pendingChunks.remove(((long[]) r.body())[0]);
        break;
      case FORGET:
      case CHECKPOINT_BEGIN:
      case CHECKPOINT_END:
        throw new IllegalArgumentException("group " + groupId + ": a " + r.kind() + " record"
            + " starts or ends an image; the replay acts on it rather than applying it");
      default:
        throw new IllegalStateException("unhandled kind " + r.kind());
    }
  }

  private void append(LogEntry e) {
    long expected = lastIndex() + 1;
    if (!entries.isEmpty() || snapshot != null) {
      if (e.getIndex() != expected) {
        throw new IllegalStateException("group " + groupId + ": log entry " + e.getIndex()
            + " follows " + (expected - 1) + "; the log has a gap or an overlap");
      }
    }
    entries.add(e);
  }

  private void addChunk(SnapshotChunk c) {
    TreeMap<Integer, SnapshotChunk> chunks =
        pendingChunks.computeIfAbsent(c.getIndex(), k -> new TreeMap<>());
    chunks.put(c.getSnapshotChunkIndex(), c);
    if (chunks.size() < c.getSnapshotChunkCount()) {
      return;
    }
    snapshotChunks = List.copyOf(chunks.values());
    snapshot = factory.createSnapshotEntryBuilder().setIndex(c.getIndex()).setTerm(c.getTerm())
        .setSnapshotChunks(new ArrayList<>(snapshotChunks))
        .setGroupMembersView(c.getGroupMembersView()).build();
    pendingChunks.headMap(c.getIndex(), true).clear();
    entries.removeIf(e -> e.getIndex() <= c.getIndex());
  }

  /**
   * The records that rebuild this image from nothing when applied in order, each marked as a
   * checkpoint copy: endpoint, initial members, term, the entries (at most
   * {@code entriesPerRecord} per record), the complete snapshot's chunks (which drop nothing:
   * the entries all follow it), then the chunks of incomplete snapshots. Empty when the image
   * has no endpoint or members: such a group cannot be restarted, so it has nothing to keep.
   */
  public List<StoreRecord> copy(int entriesPerRecord) {
    if (entriesPerRecord < 1) {
      throw new IllegalArgumentException("entriesPerRecord must be >= 1, was "
          + entriesPerRecord);
    }
    List<StoreRecord> out = new ArrayList<>();
    if (endpoint == null || initialMembers == null) {
      return out;
    }
    out.add(new StoreRecord(StoreRecord.Kind.ENDPOINT, groupId, endpoint, true));
    out.add(new StoreRecord(StoreRecord.Kind.INITIAL_MEMBERS, groupId, initialMembers, true));
    if (term != null) {
      out.add(new StoreRecord(StoreRecord.Kind.TERM, groupId, term, true));
    }
    for (int i = 0; i < entries.size(); i += entriesPerRecord) {
      out.add(new StoreRecord(StoreRecord.Kind.ENTRIES, groupId,
          List.copyOf(entries.subList(i, Math.min(entries.size(), i + entriesPerRecord))), true));
    }
    if (snapshot != null) {
      for (SnapshotChunk c : snapshotChunks) {
        out.add(new StoreRecord(StoreRecord.Kind.SNAPSHOT_CHUNK, groupId, c, true));
      }
    }
    for (TreeMap<Integer, SnapshotChunk> chunks : pendingChunks.values()) {
      for (SnapshotChunk c : chunks.values()) {
        out.add(new StoreRecord(StoreRecord.Kind.SNAPSHOT_CHUNK, groupId, c, true));
      }
    }
    return out;
  }

  /** The index of the last entry, or the snapshot's index, or 0. */
  public long lastIndex() {
    if (!entries.isEmpty()) {
      return entries.get(entries.size() - 1).getIndex();
    }
    return snapshot == null ? 0 : snapshot.getIndex();
  }

  /** The group id. */
  public int groupId() {
    return groupId;
  }

  /** The entries after the snapshot. */
  public List<LogEntry> entries() {
    return List.copyOf(entries);
  }

  /** The complete snapshot, or null. */
  public SnapshotEntry snapshot() {
    return snapshot;
  }

  /**
   * The state to restart the group from, or null when the group never persisted its local
   * endpoint (it was never started here). Its voting flag is reconciled with the membership the
   * restored log implies ({@link RestoredVoting}).
   */
  public RestoredRaftState restored() {
    if (endpoint == null || initialMembers == null) {
      return null;
    }
    RaftTermPersistentState t = term != null ? term
        : factory.createRaftTermPersistentStateBuilder().setTerm(0).setVotedFor(null).build();
    return RestoredVoting.reconcile(
        new RestoredRaftState(endpoint, initialMembers, t, snapshot, entries()), factory);
  }
}
