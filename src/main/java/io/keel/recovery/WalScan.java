package io.keel.recovery;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The recovery decision for a write-ahead log: fed the bytes of its segments in order, it says
 * where the valid records are, whether a torn tail must be cut (where, how many bytes) or the log
 * is corrupt (which file, which offset). Pure: no I/O, no clock; not thread-safe.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Each segment is named by its base LSN: the LSN its first record has (or would have, while it
 * is empty). The scan reads each segment's frames from offset 0 while they are valid
 * ({@link WalRecord#check}: complete header, type not 0, length within the maximum, complete
 * payload, checksum) and in sequence. At the first position {@code p} of a segment where no valid
 * frame starts, the rest of the segment is classified:
 *
 * <ol>
 *   <li><b>all zero</b> (or nothing left): the end of the segment's data; the zeros are the
 *       preallocated, never written part. A segment with no record at all is <em>empty</em>.
 *   <li><b>some non-zero byte</b>: the bytes from {@code p} through the last non-zero byte are
 *       <em>suspect</em>. If a valid frame starts anywhere after {@code p}, in this segment or in
 *       any later one, the log is <b>corrupt at {@code p}</b>: a record that was once written
 *       completely (others follow it) no longer reads back, and replaying around it would skip
 *       a write silently. Otherwise the suspect bytes are a <b>torn tail</b>, the last write that
 *       never completed: they are cut (zeroed), the later segments (which hold no valid frame)
 *       are deleted, and the number of bytes cut is reported. A bad checksum in the very last
 *       record is therefore a torn tail, and one in any record before it is corruption.
 * </ol>
 *
 * <p>Sequence: the first segment's first record has the segment's base LSN; each record after it
 * has the previous LSN + 1, across segments; each later segment's base is the LSN that follows the
 * previous segment (its last record + 1, or its base when it is empty). A valid frame out of
 * sequence (duplicate, lower, or skipping LSNs) is corruption at its offset, never a cut: its
 * checksum proves it was written as it reads. An empty segment is therefore accepted only as the
 * last one (the writer crashed right after creating it).
 *
 * <p>Worked example, records of 117 bytes in a 1 MiB segment {@code 1.wal}: records 1..3 are at
 * offsets 0, 117, 234. A crash during the fourth write leaves 40 of its bytes at 351, then zeros:
 * torn tail, cut 40 bytes at 351, the log is records 1..3. If instead one bit of record 2 flips,
 * offset 117 fails its checksum while record 3 at 234 is valid: corrupt at {@code 1.wal} offset
 * 117.
 *
 * <p>Limit: the writer fsyncs a segment before it writes the next one, so a crash can tear only
 * the tail of the last segment. A power loss that persists the second page of an unsynced
 * multi-page write but not the first would look like corruption and stop the node: the
 * conservative answer (an operator decides) rather than a silent skip.
 */
final class WalScan {
  private static final byte[] ZEROS = new byte[64 << 10];

  /** How a segment's data ends. */
  enum End {
    /** Records up to the last byte of the file. */
    FULL,
    /** Records, then zeros (preallocated, never written). */
    ZERO_TAIL,
    /** No record; zeros or nothing. */
    EMPTY,
    /** Records (maybe none), then a torn tail to cut. */
    TORN
  }

  /** One scanned segment; {@code lastLsn} is {@code baseLsn - 1} when it holds no record. */
  record Segment(String name, long baseLsn, long lastLsn, int records, int dataEnd, End end) {}

  /** A torn tail: {@code bytes} suspect bytes at {@code offset} of segment {@code name}. */
  record Cut(String name, int offset, int bytes, String why) {}

  /**
   * The outcome: the segments with valid data (the torn one included, its data ending at the
   * cut), the cut if any, and the segments after it to delete (they hold no valid record).
   */
  record Plan(List<Segment> segments, Cut cut, List<String> deleted, long lastLsn,
      long snapshotLsn, long snapshotMarkLsn) {}

  private final int recordBytesMax;
  private final List<Segment> segments = new ArrayList<>();
  private final List<String> deleted = new ArrayList<>();
  // Invariant: the LSN the next record must have; 0 before the first segment.
  private long nextLsn;
  // The newest valid snapshot mark: the LSN it covers, and its own LSN; 0 if none.
  private long snapshotLsn;
  private long snapshotMarkLsn;
  // Invariant: non-null once suspect bytes were seen; every segment fed after it is in deleted.
  private Cut suspect;

  // Receives each valid record as it is scanned (one-pass replay), or null.
  private final Consumer<WalRecord> sink;

  WalScan(int recordBytesMax) {
    this(recordBytesMax, null);
  }

  /**
   * A scan that also hands each valid record, in order, to {@code sink}: replay in the same pass.
   * When the scan then finds corruption, everything the sink received must be discarded.
   */
  WalScan(int recordBytesMax, Consumer<WalRecord> sink) {
    this.recordBytesMax = recordBytesMax;
    this.sink = sink;
  }

  /**
   * Scans the next segment: its name, base LSN and whole content (position 0 to limit).
   *
   * @throws WalCorruptionException naming the segment and offset of the first bad record
   */
  void segment(String name, long baseLsn, ByteBuffer bytes) throws WalCorruptionException {
    int limit = bytes.limit();
    if (suspect != null) {
      int q = findValid(bytes, 0, limit);
      if (q >= 0) {
        throw new WalCorruptionException(suspect.name(), suspect.offset(),
            suspect.why() + ", and a valid record follows at " + name + " offset " + q);
      }
      deleted.add(name);
      return;
    }
    Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
    if (last != null && last.end() == End.EMPTY) {
      throw new WalCorruptionException(last.name(), 0, "empty segment before " + name);
    }
    if (nextLsn != 0 && baseLsn != nextLsn) {
      throw new WalCorruptionException(name, 0, "segment starts at LSN " + baseLsn
          + " where " + nextLsn + " was expected (the previous segment ends at " + (nextLsn - 1)
          + ")");
    }
    if (nextLsn == 0 && baseLsn < 1) {
      throw new WalCorruptionException(name, 0, "segment base LSN must be >= 1, was " + baseLsn);
    }
    nextLsn = baseLsn;
    int pos = 0;
    int records = 0;
    int r;
    while ((r = WalRecord.check(bytes, pos, limit, recordBytesMax)) > 0) {
      long lsn = WalRecord.lsnAt(bytes, pos);
      if (lsn != nextLsn) {
        throw new WalCorruptionException(name, pos, (lsn < nextLsn ? "duplicate or decreasing"
            : "skipping") + " LSN " + lsn + " where " + nextLsn + " was expected");
      }
      if ((bytes.get(pos) & 0xff) == WalRecord.TYPE_SNAPSHOT && r == WalRecord.HEADER_BYTES + 8) {
        snapshotLsn = bytes.getLong(pos + WalRecord.HEADER_BYTES);
        snapshotMarkLsn = lsn;
      }
      if (sink != null) {
        sink.accept(WalRecord.decode(bytes, pos));
      }
      nextLsn++;
      records++;
      pos += r;
    }
    End end = endOf(name, bytes, pos, limit, r, records);
    segments.add(new Segment(name, baseLsn, nextLsn - 1, records, pos, end));
  }

  private End endOf(String name, ByteBuffer bytes, int pos, int limit, int why, int records)
      throws WalCorruptionException {
    int lastNonZero = lastNonZero(bytes, pos, limit);
    if (lastNonZero < 0) {
      return records == 0 ? End.EMPTY : pos == limit ? End.FULL : End.ZERO_TAIL;
    }
    String reason = describe(why);
    int q = findValid(bytes, pos + 1, limit);
    if (q >= 0) {
      throw new WalCorruptionException(name, pos,
          reason + ", and a valid record follows at offset " + q);
    }
    suspect = new Cut(name, pos, lastNonZero + 1 - pos, reason);
    return End.TORN;
  }

  /** The decision, once every segment has been fed. */
  Plan finish() {
    return new Plan(List.copyOf(segments), suspect, List.copyOf(deleted), nextLsn - 1,
        snapshotLsn, snapshotMarkLsn);
  }

  static String describe(int checkResult) {
    switch (checkResult) {
      case WalRecord.PARTIAL_HEADER:
        return "partial record header";
      case WalRecord.BAD_HEADER:
        return "impossible record header (type 0 or length over the maximum)";
      case WalRecord.PARTIAL_PAYLOAD:
        return "partial record payload";
      case WalRecord.BAD_CHECKSUM:
        return "checksum mismatch";
      default:
        throw new IllegalArgumentException("not a failure: " + checkResult);
    }
  }

  /** The first offset in {@code [from, limit)} where a valid frame starts, or -1. */
  int findValid(ByteBuffer bytes, int from, int limit) {
    for (int q = from; q <= limit - WalRecord.HEADER_BYTES; q++) {
      if (bytes.get(q) != 0 && WalRecord.check(bytes, q, limit, recordBytesMax) > 0) {
        return q;
      }
    }
    return -1;
  }

  /**
   * The offset of the last non-zero byte in {@code [from, limit)}, or -1. Compares 64 KiB chunks
   * with {@link Arrays#mismatch} (vectorized) first: a preallocated tail is tens of MiB of zeros.
   */
  static int lastNonZero(ByteBuffer bytes, int from, int limit) {
    int end = limit;
    if (bytes.hasArray()) {
      byte[] a = bytes.array();
      int base = bytes.arrayOffset();
      int n = ZEROS.length;
      while (end - from >= n && Arrays.mismatch(a, base + end - n, base + end, ZEROS, 0, n) < 0) {
        end -= n;
      }
    }
    for (int i = end - 1; i >= from; i--) {
      if (bytes.get(i) != 0) {
        return i;
      }
    }
    return -1;
  }
}
