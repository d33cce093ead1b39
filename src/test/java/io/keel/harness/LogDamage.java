package io.keel.harness;

import io.keel.recovery.RecoveryVerticle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Damage done to a stopped node's write-ahead log, as a disk or a power cut would do it: pure
 * file work on {@code <dataDir>/wal}, for the disk nemesis. The node must not run meanwhile.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>The frames are found as recovery finds them (see {@code WalRecord}): in each segment
 * ({@code NNNNNNNNNNNNNNNNNNNN.wal}, in name order) from offset 0 while a valid frame starts
 * there: type not 0, a payload that fits in the file, and a matching CRC32C over the 13 header
 * bytes before the checksum and the payload. The first invalid frame ends the segment.
 *
 * <ul>
 *   <li>{@link #tearNextRecord} writes part of one more record after the last one (or all of
 *       it, garbled), as a power cut during that write would leave it in the zero-filled file.
 *       Recovery must cut it (a torn tail) at its start and keep every record before it.
 *   <li>{@link #flipMidLog} changes one payload (or checksum) byte of a record that has a valid
 *       record after it: recovery must refuse the log, naming the file and the record's start.
 *       {@link #restore} writes the byte back (the operator replaced the disk block).
 * </ul>
 */
public final class LogDamage {
  /** Bytes of a frame before the payload: type 1, length 4, LSN 8, CRC32C 4. */
  static final int HEADER_BYTES = 17;
  private static final int CRC_AT = 13;
  private static final String SEGMENT = "\\d{20}\\.wal";

  /** One valid record: its segment, start offset, frame length and LSN. */
  public record Frame(Path file, long offset, int length, long lsn) {}

  /**
   * A torn record: {@code length} bytes that {@link #tearNextRecord} wrote at {@code offset},
   * meant as record {@code lsn}; {@code what} says how they are torn.
   */
  public record Tear(Path file, long offset, int length, long lsn, String what) {}

  /**
   * One changed byte: at {@code position} of {@code file}, inside the record that starts at
   * {@code offset}; {@code original} is what was there, {@code now} what is.
   */
  public record Flip(Path file, long offset, long lsn, long position, byte original, byte now) {
    @Override
    public String toString() {
      return String.format("%s record at offset %d (LSN %d): byte %d 0x%02x -> 0x%02x", file,
          offset, lsn, position, original & 0xff, now & 0xff);
    }
  }

  private LogDamage() {}

  /** The log directory of the node whose data directory is {@code dataDir}. */
  public static Path logDir(Path dataDir) {
    return dataDir.resolve(RecoveryVerticle.LOG_DIR);
  }

  /** The segment files of the log, in name (LSN) order. */
  public static List<Path> segments(Path dataDir) throws IOException {
    try (Stream<Path> s = Files.list(logDir(dataDir))) {
      return s.filter(p -> p.getFileName().toString().matches(SEGMENT)).sorted().toList();
    }
  }

  /** The valid records of the log, segment by segment, each read from offset 0. */
  public static List<Frame> records(Path dataDir) throws IOException {
    List<Frame> out = new ArrayList<>();
    for (Path p : segments(dataDir)) {
      out.addAll(frames(p));
    }
    return out;
  }

  /** The valid frames of one segment, from offset 0 to the first invalid one. */
  static List<Frame> frames(Path segment) throws IOException {
    List<Frame> out = new ArrayList<>();
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
      MappedByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
      long size = ch.size();
      int pos = 0;
      int n;
      while ((n = check(b, pos, size)) > 0) {
        out.add(new Frame(segment, pos, n, b.getLong(pos + 5)));
        pos += n;
      }
    }
    return out;
  }

  /** The length of the valid frame at {@code pos}, or -1. */
  private static int check(ByteBuffer b, int pos, long size) {
    if (size - pos < HEADER_BYTES || b.get(pos) == 0) {
      return -1;
    }
    int len = b.getInt(pos + 1);
    if (len < 0 || len > size - pos - HEADER_BYTES) {
      return -1;
    }
    CRC32C crc = new CRC32C();
    crc.update(b.duplicate().position(pos).limit(pos + CRC_AT));
    crc.update(b.duplicate().position(pos + HEADER_BYTES).limit(pos + HEADER_BYTES + len));
    return (int) crc.getValue() == b.getInt(pos + CRC_AT) ? HEADER_BYTES + len : -1;
  }

  /**
   * Leaves what a power cut during the write of the next record would leave: after the last
   * record of the newest segment (at offset 0 if it has none), a frame with the next LSN and a
   * correct checksum of its full contents, of which, chosen at random, only a prefix reached
   * the disk (at least its non-zero type byte), or all of it with one byte changed. Nobody was
   * told of that record (under {@code always} and {@code group} an append is acknowledged only
   * after its fsync), so recovery must cut it and keep every record. A segment with less than
   * two bytes left is not touched ({@link Tear#length()} 0).
   */
  public static Tear tearNextRecord(Path dataDir, Random r) throws IOException {
    List<Path> segments = segments(dataDir);
    if (segments.isEmpty()) {
      throw new IllegalStateException("no segment in the log of " + dataDir);
    }
    Path newest = segments.get(segments.size() - 1);
    List<Frame> frames = frames(newest);
    Frame last = frames.isEmpty() ? null : frames.get(frames.size() - 1);
    long offset = last == null ? 0 : last.offset() + last.length();
    long lsn = last == null ? Long.parseLong(newest.getFileName().toString().substring(0, 20))
        : last.lsn() + 1;
    long room = Files.size(newest) - offset;
    if (room < 2) {
      return new Tear(newest, offset, 0, lsn, "no room after the last record: nothing torn");
    }
    byte[] payload = new byte[r.nextInt(300)];
    r.nextBytes(payload);
    ByteBuffer frame = ByteBuffer.allocate(HEADER_BYTES + payload.length);
    frame.put((byte) (1 + r.nextInt(254))).putInt(payload.length).putLong(lsn);
    CRC32C crc = new CRC32C();
    crc.update(frame.array(), 0, CRC_AT);
    crc.update(payload);
    byte[] bytes = frame.putInt((int) crc.getValue()).put(payload).array();
    String what;
    int written;
    if (bytes.length <= room && r.nextBoolean()) {
      written = bytes.length;
      int at = 1 + r.nextInt(bytes.length - 1); // the type byte stays non-zero: it was written
      byte was = bytes[at];
      bytes[at] = (byte) (was ^ (1 + r.nextInt(255)));
      what = String.format("all %d bytes written, byte +%d 0x%02x -> 0x%02x", written, at,
          was & 0xff, bytes[at] & 0xff);
    } else {
      written = 1 + r.nextInt((int) Math.min(bytes.length - 1, room - 1));
      what = "the first " + written + " of its " + bytes.length + " bytes written";
    }
    try (FileChannel ch = FileChannel.open(newest, StandardOpenOption.WRITE)) {
      writeFully(ch, ByteBuffer.wrap(bytes, 0, written), offset);
      ch.force(false);
    }
    return new Tear(newest, offset, written, lsn, what);
  }

  /**
   * Changes one random byte of the payload (of the checksum, when the payload is empty) of a
   * random record that has a valid record after it, so that the log is corrupt, not torn.
   *
   * @throws IllegalStateException when the log has fewer than two records
   */
  public static Flip flipMidLog(Path dataDir, Random r) throws IOException {
    List<Frame> frames = records(dataDir);
    if (frames.size() < 2) {
      throw new IllegalStateException("the log of " + dataDir + " has " + frames.size()
          + " record(s); corruption before the tail needs two");
    }
    Frame f = frames.get(r.nextInt(frames.size() - 1));
    int payload = f.length() - HEADER_BYTES;
    long position = f.offset() + (payload > 0 ? HEADER_BYTES + r.nextInt(payload)
        : CRC_AT + r.nextInt(4));
    try (FileChannel ch = FileChannel.open(f.file(), StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      readFully(ch, one, position);
      byte original = one.get(0);
      byte now = (byte) (original ^ (1 + r.nextInt(255)));
      writeFully(ch, ByteBuffer.wrap(new byte[] {now}), position);
      ch.force(false);
      return new Flip(f.file(), f.offset(), f.lsn(), position, original, now);
    }
  }

  /**
   * Writes back the byte {@link #flipMidLog} changed.
   *
   * @throws IllegalStateException when the byte there is no longer the one written (the file
   *     was changed meanwhile: recovery must not rewrite a corrupt log)
   */
  public static void restore(Flip flip) throws IOException {
    try (FileChannel ch = FileChannel.open(flip.file(), StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      readFully(ch, one, flip.position());
      if (one.get(0) != flip.now()) {
        throw new IllegalStateException(String.format("%s byte %d is 0x%02x, not the 0x%02x"
            + " written there: the file changed after the flip", flip.file(), flip.position(),
            one.get(0) & 0xff, flip.now() & 0xff));
      }
      writeFully(ch, ByteBuffer.wrap(new byte[] {flip.original()}), flip.position());
      ch.force(false);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer dst, long at) throws IOException {
    long pos = at;
    while (dst.hasRemaining()) {
      int n = ch.read(dst, pos);
      if (n < 0) {
        throw new IOException("end of file at " + pos + " reading " + ch);
      }
      pos += n;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer src, long at) throws IOException {
    long pos = at;
    while (src.hasRemaining()) {
      pos += ch.write(src, pos);
    }
  }
}
