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
 * becomes one {@link StoreRecord} of type {@link #RECORD_TYPE}. Calls that MicroRaft wants
 * durable at once ({@code persistAndFlush…}) and {@link #flush()} wait for the log's fsync;
 * the others only enqueue, so that the log's group commit serves many groups with one fsync.
 *
 * <p>The waits block the calling thread: groups with this store must run on worker contexts,
 * never on an event loop. One instance per group, used by that group's executor only.
 */
public final class RaftLogStore implements RaftStore {
  /** The write-ahead-log record type of Raft store records. */
  public static final int RECORD_TYPE = 1;

  private final WriteAheadLog wal;
  private final RaftCodec codec;
  private final int groupId;
  private CompletableFuture<Long> last = CompletableFuture.completedFuture(0L);

  /** A store for group {@code groupId} on {@code wal}. */
  public RaftLogStore(WriteAheadLog wal, RaftCodec codec, int groupId) {
    this.wal = wal;
    this.codec = codec;
    this.groupId = groupId;
  }

  @Override
  public void persistAndFlushLocalEndpoint(RaftEndpointPersistentState state) throws IOException {
    append(Kind.ENDPOINT, state);
    flush();
  }

  @Override
  public void persistAndFlushInitialGroupMembers(RaftGroupMembersView view) throws IOException {
    append(Kind.INITIAL_MEMBERS, view);
    flush();
  }

  @Override
  public void persistAndFlushTerm(RaftTermPersistentState state) throws IOException {
    append(Kind.TERM, state);
    flush();
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
    flush();
  }

  /** Waits until every record this store appended is durable per the log's policy. */
  @Override
  public void flush() throws IOException {
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
    last = wal.append(RECORD_TYPE, new StoreRecord(kind, groupId, body).encode(codec));
  }
}
