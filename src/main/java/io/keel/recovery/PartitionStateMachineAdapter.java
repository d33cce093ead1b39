package io.keel.recovery;

import io.microraft.RaftNode;
import io.microraft.impl.statemachine.InternalCommitAware;
import io.microraft.statemachine.StateMachine;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs a {@link PartitionStateMachine} as MicroRaft's {@link StateMachine}.
 *
 * <p>Implementation notes. MicroRaft passes three kinds of operation to
 * {@link #runOperation}: committed log entries proposed with {@code RaftNode.replicate}, the
 * entry a new leader appends at the start of its term ({@link #getNewTermOperation}), and
 * queries passed to {@code RaftNode.query}, which never enter the log. Commands are plain
 * {@code byte[]}; a query is wrapped in {@link Query} (or is a {@link Read}, in memory) so the
 * two cannot be confused; the new-term entry is the constant
 * {@link NewTermOperation#INSTANCE}. Whatever persists or sends
 * log entries (the write-ahead log, the event-bus transport) must therefore encode
 * {@code byte[]}, {@link NewTermOperation} and MicroRaft's own
 * {@code UpdateRaftGroupMembersOp}; snapshot chunks are always {@code byte[]}.
 *
 * <p>A snapshot is cut into chunks of at most {@code snapshotChunkBytesMax} bytes, so that one
 * large partition does not become one large event-bus message; there is always at least one
 * chunk.
 *
 * <p>Once {@link #attach attached} to its Raft node, it also runs {@link SelfRemoval} when a
 * membership entry is applied.
 */
final class PartitionStateMachineAdapter implements StateMachine, InternalCommitAware {

  /** Default largest snapshot chunk: 256 KiB. */
  static final int DEFAULT_SNAPSHOT_CHUNK_BYTES_MAX = 256 * 1024;

  /** A read-only query: run against the state, never appended to the log. */
  record Query(byte[] bytes) {
  }

  /**
   * A read-only query of one machine of a {@link MachineSet}, in memory: {@code read} runs on
   * the replica's thread and answers any object. Like every query it is never appended to the
   * log nor sent.
   */
  record Read(String name, Function<PartitionStateMachine, ?> read) {
  }

  /** The operation a new leader commits at the start of its term. */
  enum NewTermOperation {
    INSTANCE
  }

  private final PartitionStateMachine machine;
  private final int snapshotChunkBytesMax;
  private volatile RaftNode raft;
  private volatile int selfRemovalStops;

  PartitionStateMachineAdapter(PartitionStateMachine machine) {
    this(machine, DEFAULT_SNAPSHOT_CHUNK_BYTES_MAX);
  }

  PartitionStateMachineAdapter(PartitionStateMachine machine, int snapshotChunkBytesMax) {
    if (machine == null) {
      throw new IllegalArgumentException("machine must not be null");
    }
    if (snapshotChunkBytesMax <= 0) {
      throw new IllegalArgumentException(
          "snapshotChunkBytesMax must be > 0, was " + snapshotChunkBytesMax);
    }
    this.machine = machine;
    this.snapshotChunkBytesMax = snapshotChunkBytesMax;
  }

  PartitionStateMachine machine() {
    return machine;
  }

  /** The Raft node this adapter serves, once it is built; returns the node. */
  RaftNode attach(RaftNode node) {
    this.raft = node;
    return node;
  }

  @Override
  public void onInternalCommit(long commitIndex) {
    RaftNode node = raft;
    if (node != null && SelfRemoval.stopApplying(node, commitIndex)) {
      selfRemovalStops++;
    }
  }

  /** How many times {@link SelfRemoval} stopped this replica's apply loop (0 or 1). */
  int selfRemovalStops() {
    return selfRemovalStops;
  }

  @Override
  public Object runOperation(long commitIndex, Object operation) {
    if (operation instanceof byte[] command) {
      return machine.apply(commitIndex, command);
    }
    if (operation instanceof Query || operation instanceof Read) {
      return answer(machine, operation);
    }
    if (operation == NewTermOperation.INSTANCE) {
      machine.onNewTerm(commitIndex);
      return null;
    }
    throw new IllegalArgumentException("unknown operation at index " + commitIndex + ": "
        + (operation == null ? "null" : operation.getClass().getName()));
  }

  /** What {@code machine} answers to {@code query}, a {@link Query} or a {@link Read}. */
  static Object answer(PartitionStateMachine machine, Object query) {
    if (query instanceof Query q) {
      return machine.query(q.bytes());
    }
    Read r = (Read) query;
    PartitionStateMachine m = machine instanceof MachineSet set ? set.machine(r.name()) : null;
    if (m == null) {
      throw new IllegalArgumentException("no state machine named " + r.name() + " to read");
    }
    return r.read().apply(m);
  }

  @Override
  public void takeSnapshot(long commitIndex, Consumer<Object> chunkConsumer) {
    byte[] snapshot = machine.takeSnapshot(commitIndex);
    int offset = 0;
    do {
      int end = (int) Math.min((long) offset + snapshotChunkBytesMax, snapshot.length);
      chunkConsumer.accept(Arrays.copyOfRange(snapshot, offset, end));
      offset = end;
    } while (offset < snapshot.length);
  }

  @Override
  public void installSnapshot(long commitIndex, List<Object> chunks) {
    int length = 0;
    for (Object chunk : chunks) {
      length += requireChunk(commitIndex, chunk).length;
    }
    byte[] snapshot = new byte[length];
    int offset = 0;
    for (Object chunk : chunks) {
      byte[] bytes = (byte[]) chunk;
      System.arraycopy(bytes, 0, snapshot, offset, bytes.length);
      offset += bytes.length;
    }
    machine.installSnapshot(commitIndex, snapshot);
  }

  @Override
  public Object getNewTermOperation() {
    return NewTermOperation.INSTANCE;
  }

  private static byte[] requireChunk(long commitIndex, Object chunk) {
    if (chunk instanceof byte[] bytes) {
      return bytes;
    }
    throw new IllegalArgumentException("snapshot chunk at index " + commitIndex
        + " is not byte[]: " + (chunk == null ? "null" : chunk.getClass().getName()));
  }
}
