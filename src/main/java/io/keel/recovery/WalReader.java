package io.keel.recovery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Replays the log: the records from a given LSN to the last one written when the reader was
 * made, in order, each checked again (frame, checksum, sequence). Reads one whole segment at a
 * time into one buffer. Not thread-safe; close it when done.
 */
public final class WalReader implements Iterator<WalRecord>, AutoCloseable {
  private final List<WalSegment> segments;
  private final long fromLsn;
  private final int recordBytesMax;
  private ByteBuffer buf = ByteBuffer.allocate(0);
  private int segment = -1;
  private int pos;
  private long expectedLsn;
  private WalRecord next;

  WalReader(List<WalSegment> segments, long fromLsn, int recordBytesMax) {
    this.segments = segments;
    this.fromLsn = fromLsn;
    this.recordBytesMax = recordBytesMax;
  }

  /**
   * {@inheritDoc}
   *
   * @throws UncheckedIOException on a read error, or wrapping a {@link WalCorruptionException}
   *     when the files changed under the reader
   */
  @Override
  public boolean hasNext() {
    while (next == null) {
      if (segment >= 0 && pos < buf.limit()) {
        WalSegment s = segments.get(segment);
        int r = WalRecord.check(buf, pos, buf.limit(), recordBytesMax);
        long lsn = r > 0 ? WalRecord.lsnAt(buf, pos) : -1;
        if (lsn != expectedLsn) {
          throw new UncheckedIOException(new WalCorruptionException(s.name(), pos,
              r > 0 ? "LSN " + lsn + " where " + expectedLsn + " was expected"
                  : WalScan.describe(r) + " on replay"));
        }
        expectedLsn++;
        if (lsn >= fromLsn) {
          next = WalRecord.decode(buf, pos);
        }
        pos += r;
      } else if (segment + 1 < segments.size()) {
        load(++segment);
      } else {
        return false;
      }
    }
    return true;
  }

  @Override
  public WalRecord next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    WalRecord r = next;
    next = null;
    return r;
  }

  private void load(int i) {
    WalSegment s = segments.get(i);
    buf = buf.capacity() >= s.dataEnd ? buf : ByteBuffer.allocate(s.dataEnd);
    try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
      WalSegment.readInto(ch, buf, s.dataEnd);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    pos = 0;
    expectedLsn = s.baseLsn;
  }

  /** Releases the buffer; the files are not held open between reads. */
  @Override
  public void close() {
    buf = ByteBuffer.allocate(0);
    segment = segments.size();
  }
}
