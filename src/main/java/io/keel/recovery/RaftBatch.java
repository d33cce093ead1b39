package io.keel.recovery;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The framing of one event-bus message that carries many encoded Raft messages to one node:
 * a format mark, a count, then each message as its stamp ({@link LeaderLease}), a length and
 * its bytes. Multi-Raft systems coalesce per destination like this so that hundreds of groups
 * do not mean hundreds of messages per heartbeat.
 */
final class RaftBatch {
  /** The most messages one batch may carry. */
  static final int MESSAGES_MAX = 65_536;
  // "KRB2": a batch of this format; a node of another version finds its count out of range.
  private static final int FORMAT = 0x4B524232;

  /** One message of a batch, with its stamp ({@link LeaderLease#NONE} for none). */
  record Stamped(long stamp, byte[] message) {}

  private RaftBatch() {}

  static byte[] encode(List<Stamped> messages) {
    if (messages.size() > MESSAGES_MAX) {
      throw new IllegalArgumentException("a batch holds at most " + MESSAGES_MAX
          + " messages, was " + messages.size());
    }
    int size = 8;
    for (Stamped m : messages) {
      size += 12 + m.message().length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.putInt(FORMAT).putInt(messages.size());
    for (Stamped m : messages) {
      b.putLong(m.stamp()).putInt(m.message().length).put(m.message());
    }
    return b.array();
  }

  static List<Stamped> decode(byte[] batch) {
    ByteBuffer b = ByteBuffer.wrap(batch);
    if (b.remaining() < 8) {
      throw new IllegalArgumentException("a batch needs a format mark and a count, had "
          + batch.length + " bytes");
    }
    int format = b.getInt();
    if (format != FORMAT) {
      throw new IllegalArgumentException("not a batch of this version's format (mark "
          + Integer.toHexString(format) + "); is a node of another Keel version in the cluster?");
    }
    int n = b.getInt();
    if (n < 0 || n > MESSAGES_MAX) {
      throw new IllegalArgumentException("batch count out of range: " + n);
    }
    List<Stamped> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (b.remaining() < 12) {
        throw new IllegalArgumentException("batch ends inside message " + i);
      }
      long stamp = b.getLong();
      int len = b.getInt();
      if (len < 0 || len > b.remaining()) {
        throw new IllegalArgumentException("message " + i + " claims " + len + " bytes, "
            + b.remaining() + " left");
      }
      byte[] m = new byte[len];
      b.get(m);
      out.add(new Stamped(stamp, m));
    }
    if (b.hasRemaining()) {
      throw new IllegalArgumentException(b.remaining() + " bytes after the last message");
    }
    return out;
  }
}
