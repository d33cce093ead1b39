package io.keel.recovery;

import java.io.IOException;

/**
 * The write-ahead log is damaged before its tail: a record that cannot be read is followed by
 * records that can, or the sequence numbers are out of order. Recovery never skips such a record;
 * the node must not start until an operator has looked at {@link #file()} at {@link #offset()}.
 */
public final class WalCorruptionException extends IOException {
  private final String file;
  private final long offset;
  private final String reason;

  /** A failure at {@code offset} of segment {@code file}; {@code reason} is a sentence. */
  public WalCorruptionException(String file, long offset, String reason) {
    super("write-ahead log corrupt at " + file + " offset " + offset + ": " + reason);
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }

  /** The same failure, naming the segment by its full path under {@code dir}. */
  public WalCorruptionException in(java.nio.file.Path dir) {
    return new WalCorruptionException(dir.resolve(file).toString(), offset, reason);
  }

  /** The segment file's name. */
  public String file() {
    return file;
  }

  /** The byte offset in {@link #file()} of the first bad record. */
  public long offset() {
    return offset;
  }
}
