package io.keel.recovery;

import io.microraft.model.RaftModelFactory;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Rebuilds every group's {@link GroupImage} from a node's write-ahead log at start-up: the
 * "replaying" phase of recovery. Give it to {@link WriteAheadLog#open(java.nio.file.Path,
 * WalOptions, Consumer)} so that the log is read once, by the scan that also checks it.
 * Records of other types are passed over.
 */
public final class RaftLogReplay implements Consumer<WalRecord> {
  private final RaftCodec codec;
  private final RaftModelFactory factory;
  private final Map<Integer, GroupImage> images = new TreeMap<>();

  /** A replay decoding with {@code codec} and building with {@code factory}. */
  public RaftLogReplay(RaftCodec codec, RaftModelFactory factory) {
    this.codec = codec;
    this.factory = factory;
  }

  /**
   * Applies one record.
   *
   * @throws IllegalStateException naming the LSN when a Raft record cannot be decoded or breaks
   *     the store's rules: the log is not what this node wrote
   */
  @Override
  public void accept(WalRecord r) {
    if (r.type() != RaftLogStore.RECORD_TYPE) {
      return;
    }
    StoreRecord s;
    try {
      s = StoreRecord.decode(codec, r.payload());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("write-ahead log record " + r.lsn() + " is not a Raft"
          + " store record: " + e.getMessage(), e);
    }
    if (s.kind() == StoreRecord.Kind.FORGET) {
      images.remove(s.groupId());
      return;
    }
    images.computeIfAbsent(s.groupId(), g -> new GroupImage(g, factory)).apply(s);
  }

  /** The image of every group that had records, by group id. */
  public Map<Integer, GroupImage> images() {
    return images;
  }
}
