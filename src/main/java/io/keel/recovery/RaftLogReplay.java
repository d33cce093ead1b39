package io.keel.recovery;

import io.microraft.model.RaftModelFactory;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Rebuilds every group's {@link GroupImage} from a node's write-ahead log at start-up: the
 * "replaying" phase of recovery. Give it to {@link WriteAheadLog#open(java.nio.file.Path,
 * WalOptions, Consumer)} so that the log is read once, by the scan that also checks it.
 * Records of other types are passed over.
 *
 * <p>Implementation notes. A group's image is whole when replay saw where it starts: the log's
 * first record (LSN 1, nothing deleted yet), a {@code FORGET} (a fresh store writes one before
 * anything else), or a complete checkpoint ({@code CHECKPOINT_BEGIN}, copies,
 * {@code CHECKPOINT_END}; the copies are built aside and swapped in at the end, so a checkpoint
 * cut short changes nothing). Once compaction deleted segments, a group's first records may be
 * the tail of an image that a later {@code FORGET} or checkpoint replaces: such a headless image
 * is built leniently (its rule violations are expected, not corruption), and it is never
 * restored. Each whole image comes with {@link #neededFrom}: the LSN its records start at, below
 * which compaction may delete.
 */
public final class RaftLogReplay implements Consumer<WalRecord> {
  private final RaftCodec codec;
  private final RaftModelFactory factory;
  private final Map<Integer, GroupImage> images = new TreeMap<>();
  private final Map<Integer, Long> neededFrom = new HashMap<>();
  // Groups whose current image began mid-stream; null image once it broke a rule.
  private final Set<Integer> headless = new HashSet<>();
  // Groups whose next record starts a whole image (after a FORGET), with that FORGET's LSN.
  private final Map<Integer, Long> forgotten = new HashMap<>();
  private final Map<Integer, GroupImage> pending = new HashMap<>();
  private final Map<Integer, Long> pendingFrom = new HashMap<>();
  private long firstLsn = -1;

  /** A replay decoding with {@code codec} and building with {@code factory}. */
  public RaftLogReplay(RaftCodec codec, RaftModelFactory factory) {
    this.codec = codec;
    this.factory = factory;
  }

  /**
   * Applies one record.
   *
   * @throws IllegalStateException naming the LSN when a Raft record cannot be decoded or breaks
   *     the store's rules in a whole image: the log is not what this node wrote
   */
  @Override
  public void accept(WalRecord r) {
    if (firstLsn < 0) {
      firstLsn = r.lsn();
    }
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
    int g = s.groupId();
    switch (s.kind()) {
      case FORGET:
        images.remove(g);
        neededFrom.remove(g);
        headless.remove(g);
        pending.remove(g);
        forgotten.put(g, r.lsn());
        return;
      case CHECKPOINT_BEGIN:
        pending.put(g, new GroupImage(g, factory));
        pendingFrom.put(g, r.lsn());
        return;
      case CHECKPOINT_END:
        GroupImage done = pending.remove(g);
        if (done != null) {
          images.put(g, done);
          neededFrom.put(g, pendingFrom.get(g));
          headless.remove(g);
          forgotten.remove(g);
        }
        return;
      default:
        break;
    }
    if (s.copy()) {
      GroupImage copy = pending.get(g);
      if (copy != null) {
        apply(copy, s, r.lsn());
      }
      return;
    }
    GroupImage image = images.get(g);
    if (image == null && !headless.contains(g)) {
      image = new GroupImage(g, factory);
      images.put(g, image);
      Long forget = forgotten.remove(g);
      if (forget != null) {
        neededFrom.put(g, forget);
      } else if (firstLsn == 1) {
        neededFrom.put(g, 1L);
      } else {
        headless.add(g);
      }
    }
    if (image == null) {
      return; // a headless image that broke a rule: ignored until a FORGET or a checkpoint
    }
    if (!headless.contains(g)) {
      apply(image, s, r.lsn());
      return;
    }
    try {
      image.apply(s);
    } catch (RuntimeException e) {
      images.remove(g);
    }
  }

  private static void apply(GroupImage image, StoreRecord s, long lsn) {
    try {
      image.apply(s);
    } catch (RuntimeException e) {
      throw new IllegalStateException("write-ahead log record " + lsn + ": " + e.getMessage(), e);
    }
  }

  /** The whole image of every group that had records, by group id. */
  public Map<Integer, GroupImage> images() {
    Map<Integer, GroupImage> whole = new TreeMap<>(images);
    whole.keySet().removeAll(headless);
    return whole;
  }

  /**
   * The LSN at which group {@code g}'s records start: the log before it holds nothing the
   * group's image needs. {@code Long.MAX_VALUE} for a group without a whole image.
   */
  public long neededFrom(int g) {
    return headless.contains(g) ? Long.MAX_VALUE : neededFrom.getOrDefault(g, Long.MAX_VALUE);
  }
}
