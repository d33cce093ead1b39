package io.keel.recovery;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The framing of one event-bus message that carries many encoded Raft messages to one node:
 * a count, then each message as a length and its bytes. Multi-Raft systems coalesce per
 * destination like this so that hundreds of groups do not mean hundreds of messages per
 * heartbeat.
 */
final class RaftBatch {
  /** The most messages one batch may carry. */
  static final int MESSAGES_MAX = 65_536;

  private RaftBatch() {}

  static byte[] encode(List<byte[]> messages) {
    if (messages.size() > MESSAGES_MAX) {
      throw new IllegalArgumentException("a batch holds at most " + MESSAGES_MAX
          + " messages, was " + messages.size());
    }
    int size = 4;
    for (byte[] m : messages) {
      size += 4 + m.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.putInt(messages.size());
    for (byte[] m : messages) {
      b.putInt(m.length).put(m);
    }
    return b.array();
  }

  static List<byte[]> decode(byte[] batch) {
    ByteBuffer b = ByteBuffer.wrap(batch);
    if (b.remaining() < 4) {
      throw new IllegalArgumentException("a batch needs a count, had " + batch.length + " bytes");
    }
    int n = b.getInt();
    if (n < 0 || n > MESSAGES_MAX) {
      throw new IllegalArgumentException("batch count out of range: " + n);
    }
    List<byte[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (b.remaining() < 4) {
        throw new IllegalArgumentException("batch ends inside message " + i);
      }
      int len = b.getInt();
      if (len < 0 || len > b.remaining()) {
        throw new IllegalArgumentException("message " + i + " claims " + len + " bytes, "
            + b.remaining() + " left");
      }
      byte[] m = new byte[len];
      b.get(m);
      out.add(m);
    }
    if (b.hasRemaining()) {
      throw new IllegalArgumentException(b.remaining() + " bytes after the last message");
    }
    return out;
  }
}
