package io.keel.recovery;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Physical truncation of the log's suffix, run on the writer thread. Crash-safe in this order:
 * the newer segments are deleted newest first (a crash leaves a shorter, still contiguous log),
 * then the segment that keeps {@code lsn} is truncated right after it (one journaled size change)
 * and zero-filled back to its size.
 */
final class WalTruncation {
  private final WriteAheadLog wal;

  WalTruncation(WriteAheadLog wal) {
    this.wal = wal;
  }

  void truncateAfter(long lsn) throws IOException {
    List<WalSegment> segments = wal.segments();
    long first = segments.get(0).baseLsn;
    if (lsn < first - 1 || lsn < wal.snapshotLsn()) {
      throw new IllegalArgumentException("lsn must be >= " + Math.max(first - 1, wal.snapshotLsn())
          + " (first retained LSN - 1 and the snapshot mark), was " + lsn);
    }
    if (lsn >= wal.writer().lastLsn()) {
      return;
    }
    int keep = 0;
    while (keep + 1 < segments.size() && segments.get(keep + 1).baseLsn <= lsn + 1) {
      keep++;
    }
    boolean deleted = false;
    for (int i = segments.size() - 1; i > keep; i--) {
      segments.remove(i).delete();
      deleted = true;
    }
    if (deleted) {
      WalSegment.syncDirectory(wal.dir());
    }
    WalSegment s = segments.get(keep);
    if (s.channel == null) {
      s.channel = wal.openChannel(s.path);
    }
    int offset = offsetAfter(s, lsn);
    s.channel.truncate(offset);
    s.channel.force(true);
    WalSegment.fillZeros(s.channel, offset, wal.options().getSegmentBytesMax());
    s.dataEnd = offset;
    s.lastLsn = lsn;
    wal.writer().resetTo(lsn);
    if (wal.snapshotMarkLsn() > lsn) {
      wal.writeSnapshotMark(wal.snapshotLsn());
    }
  }

  /** The offset just after record {@code lsn} in segment {@code s} (0 if it is before it). */
  private static int offsetAfter(WalSegment s, long lsn) throws IOException {
    if (lsn < s.baseLsn) {
      return 0;
    }
    ByteBuffer buf = ByteBuffer.allocate(s.dataEnd);
    try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
      WalSegment.readInto(ch, buf, s.dataEnd);
    }
    int pos = 0;
    for (long at = s.baseLsn; at <= lsn; at++) {
      pos += WalRecord.HEADER_BYTES + buf.getInt(pos + 1);
    }
    return pos;
  }
}
