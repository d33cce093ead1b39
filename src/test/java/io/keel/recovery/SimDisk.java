package io.keel.recovery;

import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.log.SnapshotEntry;
import io.microraft.model.persistence.RaftEndpointPersistentState;
import io.microraft.model.persistence.RaftTermPersistentState;
import io.microraft.persistence.RaftStore;
import io.microraft.persistence.RestoredRaftState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A simulated disk holding one node's Raft state, as an append-only log would: every write is
 * queued in order. As with Keel's store, no call waits ({@code flush()} and
 * {@code persistAndFlush…} only write): a sync makes every queued write durable a random moment
 * after a write, as the log's writer thread forces each batch, and {@link #barrier()} tells when
 * the writes made so far are durable; what the node sends or answers waits for it
 * ({@link DurableSends}, {@link DurableOrder}). A {@link #crash} fails the pending barrier and
 * keeps the durable state plus a prefix of the queued writes (a disk may have written some of
 * them before the power went), the last of which may be torn and is then cut off, exactly as
 * the write-ahead log's recovery cuts a torn tail.
 *
 * <p>Survives node restarts: the simulation builds the restarted node from
 * {@link #restoredState()}.
 */
final class SimDisk implements RaftStore {

  /** The state a restart sees. Copied on every flush; fine for a simulation. */
  private static final class State {
    RaftEndpointPersistentState endpoint;
    RaftGroupMembersView initialMembers;
    RaftTermPersistentState term;
    final TreeMap<Long, LogEntry> entries = new TreeMap<>();
    // Chunks of snapshots not yet complete, by snapshot index then chunk index.
    final TreeMap<Long, TreeMap<Integer, SnapshotChunk>> chunks = new TreeMap<>();
    SnapshotEntry snapshot;

    State copy() {
      State c = new State();
      c.endpoint = endpoint;
      c.initialMembers = initialMembers;
      c.term = term;
      c.entries.putAll(entries);
      for (Map.Entry<Long, TreeMap<Integer, SnapshotChunk>> e : chunks.entrySet()) {
        c.chunks.put(e.getKey(), new TreeMap<>(e.getValue()));
      }
      c.snapshot = snapshot;
      return c;
    }
  }

  private static final RaftModelFactory MODEL = new DefaultRaftModelFactory();

  private State durable = new State();
  private final List<Consumer<State>> unsynced = new ArrayList<>();
  // A broken disk for checking the checker: term, vote and membership writes are durable at
  // once, log entries and snapshots never, and every barrier says they are.
  boolean lyingFlush;
  // As a Keel store must (see RestoredVoting); false shows MicroRaft 0.7's own behaviour.
  boolean reconcileVoting = true;
  private final TaskQueue syncQueue;
  private final SplittableRandom syncRandom;
  private final int syncDelayMsMax;
  private boolean syncScheduled;
  // While true, due syncs wait: a directed test holds writes unsynced as long as it needs.
  boolean syncsStalled;
  // Bumped by every crash: a sync scheduled before it is void.
  private long incarnation;
  private CompletableFuture<Void> nextSync = new CompletableFuture<>();
  private static final CompletableFuture<Void> SYNCED = CompletableFuture.completedFuture(null);

  /** A disk that syncs a random 0..{@code delayMsMax} ms after writes, on {@code queue}. */
  SimDisk(TaskQueue queue, SplittableRandom random, int delayMsMax) {
    syncQueue = queue;
    syncRandom = random;
    syncDelayMsMax = delayMsMax;
  }

  /**
   * Completes once every write made so far is durable; fails if the node crashes first. A lying
   * disk answers at once.
   */
  CompletableFuture<Void> barrier() {
    return unsynced.isEmpty() || lyingFlush ? SYNCED : nextSync;
  }

  /** The durable term, 0 if none. */
  int durableTerm() {
    return durable.term == null ? 0 : durable.term.getTerm();
  }

  int unsyncedWrites() {
    return unsynced.size();
  }

  private void write(Consumer<State> w) {
    unsynced.add(w);
    if (!syncScheduled && !lyingFlush) {
      syncScheduled = true;
      long at = incarnation;
      syncQueue.schedule(syncRandom.nextInt(syncDelayMsMax + 1), () -> syncDue(at));
    }
  }

  private void syncDue(long at) {
    if (at != incarnation) {
      return;
    }
    if (syncsStalled) {
      syncQueue.schedule(1, () -> syncDue(at));
      return;
    }
    syncScheduled = false;
    syncAll();
  }

  private void writeAndFlush(Consumer<State> w) {
    if (lyingFlush) {
      w.accept(durable); // its own small file, synced; the log stays unsynced
    } else {
      write(w);
    }
  }

  @Override
  public void persistAndFlushLocalEndpoint(RaftEndpointPersistentState state) {
    writeAndFlush(s -> s.endpoint = state);
  }

  @Override
  public void persistAndFlushInitialGroupMembers(RaftGroupMembersView members) {
    writeAndFlush(s -> s.initialMembers = members);
  }

  @Override
  public void persistAndFlushTerm(RaftTermPersistentState state) {
    writeAndFlush(s -> s.term = state);
  }

  @Override
  public void persistLogEntries(List<LogEntry> entries) {
    List<LogEntry> copy = List.copyOf(entries);
    write(s -> {
      for (LogEntry e : copy) {
        Long last = s.entries.isEmpty() ? null : s.entries.lastKey();
        long floor = s.snapshot == null ? 0 : s.snapshot.getIndex();
        if (last != null && e.getIndex() != last + 1 || last == null && e.getIndex() <= floor) {
          // MicroRaft appends with consecutive indices after its snapshot.
          throw new AssertionError("non-consecutive append at " + e.getIndex() + ", last="
              + last + ", snapshot=" + floor);
        }
        s.entries.put(e.getIndex(), e);
      }
    });
  }

  @Override
  public void persistSnapshotChunk(SnapshotChunk chunk) {
    write(s -> {
      TreeMap<Integer, SnapshotChunk> parts =
          s.chunks.computeIfAbsent(chunk.getIndex(), i -> new TreeMap<>());
      parts.put(chunk.getSnapshotChunkIndex(), chunk);
      if (parts.size() == chunk.getSnapshotChunkCount()) {
        s.chunks.headMap(chunk.getIndex(), true).clear();
        // As Keel's store does (GroupImage): a restart starts from the snapshot, so the entries
        // it covers are gone, whether or not their truncation reached the disk before a crash.
        s.entries.headMap(chunk.getIndex(), true).clear();
        if (s.snapshot == null || s.snapshot.getIndex() < chunk.getIndex()) {
          s.snapshot = MODEL.createSnapshotEntryBuilder().setIndex(chunk.getIndex())
              .setTerm(chunk.getTerm()).setSnapshotChunks(new ArrayList<>(parts.values()))
              .setGroupMembersView(chunk.getGroupMembersView()).build();
        }
      }
    });
  }

  @Override
  public void truncateLogEntriesFrom(long indexInclusive) {
    write(s -> s.entries.tailMap(indexInclusive, true).clear());
  }

  @Override
  public void truncateLogEntriesUntil(long indexInclusive) {
    write(s -> s.entries.headMap(indexInclusive, true).clear());
  }

  @Override
  public void deleteSnapshotChunks(long index, int chunkCount) {
    write(s -> s.chunks.remove(index));
  }

  @Override
  public void flush() {
    // Nothing waits: the next sync makes the writes durable, and barrier() says when.
  }

  private void syncAll() {
    if (unsynced.isEmpty()) {
      return;
    }
    State next = durable.copy();
    for (Consumer<State> w : unsynced) {
      w.accept(next);
    }
    durable = next;
    unsynced.clear();
    CompletableFuture<Void> done = nextSync;
    nextSync = new CompletableFuture<>();
    done.complete(null);
  }

  /**
   * The power goes: keeps a random prefix of the unsynced writes (none if
   * {@code keepUnsynced} is false); with {@code tear}, the last kept write is torn and lost.
   *
   * @return the number of unsynced writes lost
   */
  int crash(SplittableRandom random, boolean keepUnsynced, boolean tear) {
    incarnation++;
    syncScheduled = false;
    CompletableFuture<Void> pending = nextSync;
    nextSync = new CompletableFuture<>();
    pending.completeExceptionally(new IllegalStateException("the node crashed"));
    int kept = keepUnsynced ? random.nextInt(unsynced.size() + 1) : 0;
    if (tear && kept > 0) {
      kept--;
    }
    int lost = unsynced.size() - kept;
    List<Consumer<State>> survivors = new ArrayList<>(unsynced.subList(0, kept));
    unsynced.clear();
    unsynced.addAll(survivors);
    syncAll();
    return lost;
  }

  /** The state a node restarting from this disk sees, or null if it never persisted itself. */
  RestoredRaftState restoredState() {
    if (!unsynced.isEmpty()) {
      throw new IllegalStateException("restore with " + unsynced.size() + " unsynced writes");
    }
    State s = durable;
    if (s.endpoint == null || s.initialMembers == null) {
      return null;
    }
    long floor = s.snapshot == null ? 0 : s.snapshot.getIndex();
    List<LogEntry> entries = new ArrayList<>(s.entries.tailMap(floor, false).values());
    long expected = floor + 1;
    for (LogEntry e : entries) {
      if (e.getIndex() != expected++) {
        throw new AssertionError("gap in restored log at " + e.getIndex() + ", snapshot="
            + floor);
      }
    }
    RaftTermPersistentState term = s.term != null ? s.term
        : MODEL.createRaftTermPersistentStateBuilder().setTerm(0).setVotedFor(null).build();
    RestoredRaftState restored =
        new RestoredRaftState(s.endpoint, s.initialMembers, term, s.snapshot, entries);
    return reconcileVoting ? RestoredVoting.reconcile(restored, MODEL) : restored;
  }

  /** The index of the durable snapshot, 0 if none. */
  long durableSnapshotIndex() {
    return durable.snapshot == null ? 0 : durable.snapshot.getIndex();
  }

  /** The durable log's last index (snapshot or entry). */
  long durableLastIndex() {
    if (!durable.entries.isEmpty()) {
      return durable.entries.lastKey();
    }
    return durable.snapshot == null ? 0 : durable.snapshot.getIndex();
  }
}
