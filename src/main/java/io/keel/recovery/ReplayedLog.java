package io.keel.recovery;

import io.microraft.model.RaftModelFactory;
import io.microraft.persistence.RestoredRaftState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A data node's write-ahead log, opened and replayed: the log, ready for appends, and the
 * partition groups rebuilt from it. A standalone node reads its log this way before it joins
 * the cluster, so that the one read both checks the log and rebuilds the groups, with the
 * machine's cores to itself instead of sharing them with Hazelcast's and Vert.x's start.
 *
 * <p>Whoever reads the log owns it until {@link #take()} hands it on; an owner that gives up
 * closes it with {@link #closeUnlessTaken()}.
 */
public final class ReplayedLog {
  private final WriteAheadLog wal;
  private final Map<Integer, PartitionGroups.Restored> restored;
  private final long readMs;
  private final long replayMs;
  private final AtomicBoolean taken = new AtomicBoolean();

  private ReplayedLog(WriteAheadLog wal, Map<Integer, PartitionGroups.Restored> restored,
      long readMs, long replayMs) {
    this.wal = wal;
    this.readMs = readMs;
    this.restored = Collections.unmodifiableMap(restored);
    this.replayMs = replayMs;
  }

  /**
   * Opens the log in {@code dir} and rebuilds every group from it, in one pass; blocks. A torn
   * tail is cut; a corrupt record throws {@link WalCorruptionException} naming the segment
   * (relative to {@code dir}) and the offset.
   */
  static ReplayedLog read(Path dir, WalOptions options, RaftModelFactory factory)
      throws IOException {
    long t0 = System.nanoTime();
    RaftLogReplay replay = new RaftLogReplay(RaftCodec.forKeel(factory), factory);
    try (ReplayPipeline pipeline = new ReplayPipeline(replay)) {
      WriteAheadLog opened = WriteAheadLog.open(dir, options, pipeline);
      try {
        pipeline.finish();
        long readMs = (System.nanoTime() - t0) / 1_000_000;
        // Reconciling hundreds of groups' state takes a while: part of the replay.
        Map<Integer, PartitionGroups.Restored> restored = new TreeMap<>();
        replay.images().forEach((p, image) -> {
          RestoredRaftState state = image.restored();
          if (state != null) {
            restored.put(p, new PartitionGroups.Restored(state, image, replay.neededFrom(p)));
          }
        });
        return new ReplayedLog(opened, restored, readMs, (System.nanoTime() - t0) / 1_000_000);
      } catch (RuntimeException | Error e) {
        opened.close();
        throw e;
      }
    }
  }

  /** Hands the log on; throws if it was handed on before. */
  WriteAheadLog take() {
    if (!taken.compareAndSet(false, true)) {
      throw new IllegalStateException("the replayed log of " + wal.dir() + " was taken already");
    }
    return wal;
  }

  /** The groups rebuilt from the log, by partition; only those with a state to restore. */
  Map<Integer, PartitionGroups.Restored> restored() {
    return restored;
  }

  /** What opening the log found: its LSNs, segments and the torn tail cut, if any. */
  WriteAheadLog.Recovery recovery() {
    return wal.recovery();
  }

  /** How long opening the log and reading its records into the groups' images took. */
  long readMs() {
    return readMs;
  }

  /** How long opening and replaying took: the read, then rebuilding each group's state. */
  long replayMs() {
    return replayMs;
  }

  /** Closes the log if nobody took it: for a start that failed before recovery began. */
  public void closeUnlessTaken() throws IOException {
    if (taken.compareAndSet(false, true)) {
      wal.close();
    }
  }
}
