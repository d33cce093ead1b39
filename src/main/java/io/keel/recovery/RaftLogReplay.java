package io.keel.recovery;

import io.microraft.model.RaftModelFactory;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Rebuilds every group's {@link GroupImage} from a node's write-ahead log at start-up: the
 * "replaying" phase of recovery.
 */
public final class RaftLogReplay {
  private RaftLogReplay() {}

  /** The image of every group that has records in {@code wal}, by group id. */
  public static Map<Integer, GroupImage> replay(WriteAheadLog wal, RaftCodec codec,
      RaftModelFactory factory) throws IOException {
    Map<Integer, GroupImage> images = new TreeMap<>();
    try (WalReader reader = wal.readFrom(wal.firstLsn())) {
      while (reader.hasNext()) {
        WalRecord r = reader.next();
        if (r.type() != RaftLogStore.RECORD_TYPE) {
          continue;
        }
        StoreRecord s;
        try {
          s = StoreRecord.decode(codec, r.payload());
        } catch (IllegalArgumentException e) {
          throw new IOException("write-ahead log record " + r.lsn() + " is not a Raft store"
              + " record: " + e.getMessage(), e);
        }
        images.computeIfAbsent(s.groupId(), g -> new GroupImage(g, factory)).apply(s);
      }
    }
    return images;
  }
}
