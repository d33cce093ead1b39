package io.keel.recovery;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The recovery tests' vocabulary: append, {@link #crash()}, {@link #corruptTail},
 * {@link #flipByte},
 * {@link #reopen()}. Works on real files in a test's temporary directory.
 */
final class WalHarness implements AutoCloseable {
  static final int PAYLOAD_BYTES = 100;
  static final int FRAME_BYTES = WalRecord.HEADER_BYTES + PAYLOAD_BYTES;

  final Path dir;
  final WalOptions options;
  final AtomicLong forces = new AtomicLong();
  WriteAheadLog wal;

  WalHarness(Path dir, WalOptions options) throws IOException {
    this.dir = dir;
    this.options = options;
    this.wal = open();
  }

  /** Small segments (4 KiB: 35 records of 100 B) so that tests roll over quickly. */
  static WalOptions smallSegments() {
    return new WalOptions().setSegmentBytesMax(4096).setRecordBytesMax(1024);
  }

  WriteAheadLog open() throws IOException {
    return WriteAheadLog.openWith(dir, options,
        p -> new WalCountingChannel(FileChannel.open(p, WalSegment.WRITE), forces));
  }

  /** The payload of record {@code i}: its text, padded with '.' to 100 bytes. */
  static byte[] payload(long i) {
    byte[] b = new byte[PAYLOAD_BYTES];
    java.util.Arrays.fill(b, (byte) '.');
    byte[] s = ("record-" + i).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(s, 0, b, 0, s.length);
    return b;
  }

  /** Appends {@code n} records of 100 B and waits for each; returns the last LSN. */
  long append(int n) {
    long lsn = 0;
    for (int i = 0; i < n; i++) {
      lsn = wal.append(1, payload(wal.lastLsn() + 1)).join();
    }
    return lsn;
  }

  /**
   * The process dies. Every acknowledged record has reached the OS (and, except with interval,
   * the disk); a process crash loses nothing the OS has, so it is closing the files as they are.
   */
  void crash() throws IOException {
    wal.close();
    wal = null;
  }

  /** Opens the log again after {@link #crash()}; returns what recovery found. */
  WriteAheadLog.Recovery reopen() throws IOException {
    if (wal != null) {
      wal.close();
    }
    wal = open();
    return wal.recovery();
  }

  /** A torn write: {@code bytes} non-zero bytes after the last record of the last segment. */
  void corruptTail(int bytes) throws IOException {
    long at = lastSegment().dataEnd;
    crash();
    byte[] junk = new byte[bytes];
    java.util.Arrays.fill(junk, (byte) 0x5a);
    write(lastFile(), at, junk);
  }

  /** Inverts every bit of the byte at {@code offset} of {@code file}. */
  static void flipByte(Path file, long offset) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ 0xff);
    }
  }

  static void write(Path file, long offset, byte[] bytes) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      f.write(bytes);
    }
  }

  /** A valid frame, as the writer would make it. */
  static byte[] frame(long lsn, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(WalRecord.HEADER_BYTES + payload.length);
    WalRecord.encode(b, 1, lsn, payload, 0, payload.length);
    return b.array();
  }

  WalSegment lastSegment() {
    return wal.lastSegment();
  }

  /** The segment files, oldest first, as on disk. */
  List<Path> files() throws IOException {
    try (var s = Files.list(dir)) {
      return s.filter(p -> WalSegment.parseBase(p.getFileName().toString()) > 0).sorted()
          .toList();
    }
  }

  Path lastFile() throws IOException {
    List<Path> f = files();
    return f.get(f.size() - 1);
  }

  /** Every record from the first retained one. */
  List<WalRecord> records() throws IOException {
    List<WalRecord> out = new ArrayList<>();
    try (WalReader r = wal.readFrom(wal.firstLsn())) {
      r.forEachRemaining(out::add);
    }
    return out;
  }

  /** The LSNs of {@link #records()}. */
  List<Long> lsns() throws IOException {
    return records().stream().map(WalRecord::lsn).toList();
  }

  @Override
  public void close() throws IOException {
    if (wal != null) {
      wal.close();
    }
  }
}
