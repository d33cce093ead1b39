package io.keel.recovery;

import io.keel.recovery.StoreRecord.Kind;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.persistence.RaftEndpointPersistentState;
import io.microraft.model.persistence.RaftTermPersistentState;
import io.microraft.persistence.RaftStore;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * MicroRaft's {@code RaftStore} for one group over the node's shared write-ahead log: every call
 * becomes one {@link StoreRecord} of type {@link #RECORD_TYPE}. No call waits for fsync, not
 * even those MicroRaft wants durable at once ({@code persistAndFlush…}: a term, a vote, the
 * replica's first state) or {@link #flush()}: the group's messages leave through
 * {@link DurableSends}, and whatever else the node tells another process (answers to clients,
 * a reply to an invitation) waits for {@link WriteAheadLog#barrier()}. So nothing that depends
 * on an unsynced write is seen outside the node, a group's thread never blocks, and the log's
 * group commit serves every group with one fsync.
 *
 * <p>Compaction. The store keeps the group's image as replay would rebuild it (a
 * {@link GroupImage} fed the same records, holding the entries MicroRaft holds anyway) and
 * knows the LSN where the group's records start ({@link #neededFrom()}). The log segments
 * below the smallest such LSN of a node's groups can be deleted; {@link #checkpoint()} writes
 * the image again at the log's end, so that a group which has not changed for long stops
 * pinning old segments. A fresh store starts with a {@code FORGET}, so that replay knows where
 * the group's records start even after older segments were deleted.
 *
 * <p>Only {@link #forget()} blocks (run it off the event loop). One instance per group, used by
 * that group's executor only (the checkpoint included); {@link #neededFrom()} may be read from
 * any thread.
 */
public final class RaftLogStore implements RaftStore {
  /** The write-ahead-log record type of Raft store records. */
  public static final int RECORD_TYPE = 1;

  /** How many entries a checkpoint puts in one record at most (fewer when they are large). */
  static final int CHECKPOINT_ENTRIES_PER_RECORD = 256;

  private final WriteAheadLog wal;
  private final RaftCodec codec;
  private final int groupId;
  private CompletableFuture<Long> last = CompletableFuture.completedFuture(0L);
  private GroupImage image;
  // A lower bound of the LSN of the group's first needed record; MAX_VALUE once forgotten.
  private volatile long neededFrom;

  private RaftLogStore(WriteAheadLog wal, RaftCodec codec, int groupId, GroupImage image,
      long neededFrom) {
    this.wal = wal;
    this.codec = codec;
    this.groupId = groupId;
    this.image = image;
    this.neededFrom = neededFrom;
  }

  /**
   * A store for a new replica of group {@code groupId}: writes a {@code FORGET} first, so that
   * whatever this node held of the group before is gone on replay.
   */
  public static RaftLogStore fresh(WriteAheadLog wal, RaftCodec codec, int groupId) {
    // Every LSN appended from now on is above the last one written.
    RaftLogStore store = new RaftLogStore(wal, codec, groupId,
        new GroupImage(groupId, codec.factory()), wal.lastLsn());
    store.last = wal.append(RECORD_TYPE, new StoreRecord(Kind.FORGET, groupId, null)
        .encode(codec));
    return store;
  }

  /**
   * A store for a replica restored from the log: {@code image} is its replayed image (see
   * {@link RaftLogReplay#images()}), whose records start at {@code neededFrom}
   * ({@link RaftLogReplay#neededFrom}).
   */
  public static RaftLogStore restored(WriteAheadLog wal, RaftCodec codec, GroupImage image,
      long neededFrom) {
    return new RaftLogStore(wal, codec, image.groupId(), image, neededFrom);
  }

  @Override
  public void persistAndFlushLocalEndpoint(RaftEndpointPersistentState state) throws IOException {
    append(Kind.ENDPOINT, state);
  }

  @Override
  public void persistAndFlushInitialGroupMembers(RaftGroupMembersView view) throws IOException {
    append(Kind.INITIAL_MEMBERS, view);
  }

  @Override
  public void persistAndFlushTerm(RaftTermPersistentState state) throws IOException {
    append(Kind.TERM, state);
  }

  @Override
  public void persistLogEntries(List<LogEntry> entries) {
    append(Kind.ENTRIES, List.copyOf(entries));
  }

  @Override
  public void persistSnapshotChunk(SnapshotChunk chunk) {
    append(Kind.SNAPSHOT_CHUNK, chunk);
  }

  @Override
  public void truncateLogEntriesFrom(long index) {
    append(Kind.TRUNCATE_FROM, index);
  }

  @Override
  public void truncateLogEntriesUntil(long index) {
    append(Kind.TRUNCATE_UNTIL, index);
  }

  @Override
  public void deleteSnapshotChunks(long snapshotIndex, int chunkCount) {
    append(Kind.DELETE_SNAPSHOT_CHUNKS, new long[] {snapshotIndex, chunkCount});
  }

  /**
   * Records that this node's replica left the group, so that replay forgets the group's earlier
   * records; waits until that is durable.
   */
  public void forget() throws IOException {
    append(Kind.FORGET, null);
    awaitDurable();
    neededFrom = Long.MAX_VALUE;
  }

  /**
   * The LSN (or a lower bound of it) where this group's needed records start: deleting the log
   * below it loses nothing of the group. {@code Long.MAX_VALUE} once the group is forgotten.
   */
  public long neededFrom() {
    return neededFrom;
  }

  /**
   * Writes the group's whole image again at the log's end, between checkpoint marks, and
   * returns a future completed once it is durable, when {@link #neededFrom()} has moved up to
   * it. Call on the group's executor, as MicroRaft calls the store. Does nothing (and completes
   * at once) for a group that has no image to restart from.
   */
  public CompletableFuture<Long> checkpoint() {
    List<StoreRecord> copy = image.copy(CHECKPOINT_ENTRIES_PER_RECORD);
    if (copy.isEmpty() || neededFrom == Long.MAX_VALUE) {
      return CompletableFuture.completedFuture(neededFrom);
    }
    long from = wal.lastLsn();
    appendRaw(new StoreRecord(Kind.CHECKPOINT_BEGIN, groupId, null));
    for (StoreRecord r : copy) {
      appendCopy(r);
    }
    appendRaw(new StoreRecord(Kind.CHECKPOINT_END, groupId, null));
    return last.thenApply(lsn -> {
      neededFrom = Math.max(neededFrom, from);
      return neededFrom;
    });
  }

  @SuppressWarnings("unchecked")
  private void appendCopy(StoreRecord r) {
    byte[] bytes = r.encode(codec);
    List<LogEntry> entries = r.kind() == Kind.ENTRIES ? (List<LogEntry>) r.body() : List.of();
    if (bytes.length > wal.options().getRecordBytesMax() && entries.size() > 1) {
      int half = entries.size() / 2;
      appendCopy(new StoreRecord(Kind.ENTRIES, groupId, entries.subList(0, half), true));
      appendCopy(new StoreRecord(Kind.ENTRIES, groupId, entries.subList(half, entries.size()),
          true));
      return;
    }
    last = wal.append(RECORD_TYPE, bytes);
  }

  private void appendRaw(StoreRecord r) {
    last = wal.append(RECORD_TYPE, r.encode(codec));
  }

  /**
   * Returns at once: what this store appended becomes durable with the log's next group
   * commit, and whatever depends on it waits for {@link WriteAheadLog#barrier()} (see the class
   * comment). A failed log still fails here, once its failure is known.
   */
  @Override
  public void flush() throws IOException {
    if (last.isCompletedExceptionally()) {
      awaitDurable();
    }
  }

  /** Waits until every record this store appended is durable per the log's policy. */
  void awaitDurable() throws IOException {
    try {
      last.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for the write-ahead log");
    } catch (ExecutionException e) {
      throw new IOException("group " + groupId + ": the write-ahead log failed: "
          + e.getCause(), e.getCause());
    }
  }

  private void append(Kind kind, Object body) {
    StoreRecord r = new StoreRecord(kind, groupId, body);
    if (kind == Kind.FORGET) {
      image = new GroupImage(groupId, codec.factory());
    } else {
      image.apply(r);
    }
    appendRaw(r);
  }
}
