package io.keel.recovery;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * One record of the write-ahead log: a type, a log sequence number (LSN) and an opaque payload,
 * and its on-disk frame.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Frame layout, big-endian, {@value #HEADER_BYTES} bytes of header then the payload:
 *
 * <pre>
 * offset size field
 *  0     1    type      1..255; 0 is never written, so a zero byte cannot start a record
 *  1     4    length    payload bytes, 0..recordBytesMax
 *  5     8    lsn       log sequence number, >= 1, +1 per record
 * 13     4    crc       CRC32C over bytes 0..12 and the payload
 * 17     n    payload
 * </pre>
 *
 * <p>The type comes first and is never 0 so that a preallocated (zero-filled) region is told
 * apart from a record after one byte, and a torn record, however short, has a non-zero first
 * byte. Worked example: type 1, LSN 7, payload {@code "hi"} is the 19 bytes {@code 01 | 00 00 00
 * 02 | 00 00 00 00 00 00 00 07 | crc(4) | 68 69}. Type {@link #TYPE_SNAPSHOT} is reserved for the
 * log's own snapshot marks; all other non-zero types are the caller's.
 *
 * @param lsn the log sequence number, {@code >= 1}
 * @param type the record type, 1..255
 * @param payload the payload (not copied; do not modify)
 */
public record WalRecord(long lsn, int type, byte[] payload) {
  /** Bytes of the frame before the payload. */
  public static final int HEADER_BYTES = 17;
  /** The type of the log's own snapshot marks ({@code WriteAheadLog.markSnapshot}). */
  public static final int TYPE_SNAPSHOT = 255;

  /** {@link #check} result: fewer than {@link #HEADER_BYTES} bytes remain. */
  static final int PARTIAL_HEADER = -1;
  /** {@link #check} result: the header is impossible (type 0 or length over the maximum). */
  static final int BAD_HEADER = -2;
  /** {@link #check} result: the header promises more bytes than remain. */
  static final int PARTIAL_PAYLOAD = -3;
  /** {@link #check} result: the checksum does not match. */
  static final int BAD_CHECKSUM = -4;

  /** Checks the arguments. */
  public WalRecord {
    requireType(type);
    if (lsn < 1) {
      throw new IllegalArgumentException("lsn must be >= 1, was " + lsn);
    }
    if (payload == null) {
      throw new IllegalArgumentException("payload must not be null");
    }
  }

  /** The bytes this record takes on disk. */
  public int frameBytes() {
    return HEADER_BYTES + payload.length;
  }

  /** Whether {@code type} is one a record can have (1..255). */
  static void requireType(int type) {
    if (type < 1 || type > 255) {
      throw new IllegalArgumentException("type must be 1..255, was " + type);
    }
  }

  /**
   * Writes the frame of a record at {@code dst}'s position and advances it.
   *
   * @throws java.nio.BufferOverflowException when {@code dst} has too little room
   */
  static void encode(ByteBuffer dst, int type, long lsn, byte[] payload, int off, int len) {
    int start = dst.position();
    dst.put((byte) type).putInt(len).putLong(lsn);
    CRC32C crc = new CRC32C();
    crc.update(dst.duplicate().position(start).limit(start + 13));
    crc.update(payload, off, len);
    dst.putInt((int) crc.getValue()).put(payload, off, len);
  }

  /**
   * Checks the frame at {@code pos} of {@code buf}, reading no further than {@code limit}; does
   * not move the buffer's position.
   *
   * @return the frame's size when it is a complete record with a correct checksum, otherwise one
   *     of {@link #PARTIAL_HEADER}, {@link #BAD_HEADER}, {@link #PARTIAL_PAYLOAD} or
   *     {@link #BAD_CHECKSUM}
   */
  static int check(ByteBuffer buf, int pos, int limit, int recordBytesMax) {
    if (limit - pos < HEADER_BYTES) {
      return PARTIAL_HEADER;
    }
    if (buf.hasArray()) {
      return check(buf.array(), buf.arrayOffset() + pos, limit - pos, recordBytesMax);
    }
    int type = buf.get(pos) & 0xff;
    int len = buf.getInt(pos + 1);
    if (type == 0 || len < 0 || len > recordBytesMax) {
      return BAD_HEADER;
    }
    if (limit - pos - HEADER_BYTES < len) {
      return PARTIAL_PAYLOAD;
    }
    CRC32C crc = new CRC32C();
    crc.update(buf.duplicate().limit(pos + 13).position(pos));
    crc.update(buf.duplicate().limit(pos + HEADER_BYTES + len).position(pos + HEADER_BYTES));
    return (int) crc.getValue() == buf.getInt(pos + 13) ? HEADER_BYTES + len : BAD_CHECKSUM;
  }

  /**
   * {@link #check(ByteBuffer, int, int, int)} on an array, {@code remaining} bytes from
   * {@code at}: plain array reads, fast from the first call (replay runs on a cold JVM).
   */
  private static int check(byte[] a, int at, int remaining, int recordBytesMax) {
    int type = a[at] & 0xff;
    int len = getInt(a, at + 1);
    if (type == 0 || len < 0 || len > recordBytesMax) {
      return BAD_HEADER;
    }
    if (remaining - HEADER_BYTES < len) {
      return PARTIAL_PAYLOAD;
    }
    CRC32C crc = new CRC32C();
    crc.update(a, at, 13);
    crc.update(a, at + HEADER_BYTES, len);
    return (int) crc.getValue() == getInt(a, at + 13) ? HEADER_BYTES + len : BAD_CHECKSUM;
  }

  static int getInt(byte[] a, int i) {
    return (a[i] & 0xff) << 24 | (a[i + 1] & 0xff) << 16 | (a[i + 2] & 0xff) << 8
        | (a[i + 3] & 0xff);
  }

  static long getLong(byte[] a, int i) {
    return (long) getInt(a, i) << 32 | (getInt(a, i + 4) & 0xffffffffL);
  }

  /** The LSN of the (checked) frame at {@code pos}. */
  static long lsnAt(ByteBuffer buf, int pos) {
    return buf.hasArray() ? getLong(buf.array(), buf.arrayOffset() + pos + 5)
        : buf.getLong(pos + 5);
  }

  /** Decodes the (checked) frame at {@code pos}, copying its payload. */
  static WalRecord decode(ByteBuffer buf, int pos) {
    if (!buf.hasArray()) {
      byte[] payload = new byte[buf.getInt(pos + 1)];
      buf.get(pos + HEADER_BYTES, payload);
      return new WalRecord(buf.getLong(pos + 5), buf.get(pos) & 0xff, payload);
    }
    byte[] a = buf.array();
    int at = buf.arrayOffset() + pos;
    byte[] payload = new byte[getInt(a, at + 1)];
    System.arraycopy(a, at + HEADER_BYTES, payload, 0, payload.length);
    return new WalRecord(getLong(a, at + 5), a[at] & 0xff, payload);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WalRecord r && r.lsn == lsn && r.type == type
        && Arrays.equals(r.payload, payload);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(lsn) * 31 + type * 17 + Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    return "WalRecord[lsn=" + lsn + ", type=" + type + ", " + payload.length + " bytes]";
  }
}
