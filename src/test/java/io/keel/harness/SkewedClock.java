package io.keel.harness;

import io.keel.recovery.UtcMillisClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The system clock plus an offset that a test changes while a node runs: a jump forward or
 * back of a node's lease clock. In a node process the offset is read from a file
 * ({@link #watching}) that the test rewrites ({@link #write}).
 */
public final class SkewedClock extends UtcMillisClock {
  private final Path file;
  private final long periodNanos;
  private volatile long offsetMs;
  private volatile long readAtNanos;

  /** A clock on the system clock, offset by {@link #setOffsetMs}. */
  public SkewedClock() {
    this(null, 0);
  }

  private SkewedClock(Path file, long periodMs) {
    this.file = file;
    this.periodNanos = periodMs * 1_000_000;
    if (file != null) {
      offsetMs = read(file, 0);
      readAtNanos = System.nanoTime();
    }
  }

  /** The current offset from the system clock, in milliseconds. */
  public long offsetMs() {
    return offsetMs;
  }

  /** Jumps to {@code offsetMs} ahead of the system clock (behind it when negative). */
  public SkewedClock setOffsetMs(long offsetMs) {
    this.offsetMs = offsetMs;
    return this;
  }

  @Override
  public long millis() {
    if (file != null && System.nanoTime() - readAtNanos >= periodNanos) {
      readAtNanos = System.nanoTime();
      offsetMs = read(file, offsetMs);
    }
    return System.currentTimeMillis() + offsetMs;
  }

  /**
   * A clock whose offset follows the number in {@code file} (milliseconds; a missing or empty
   * file is 0), read again when the clock is asked and {@code periodMs} have passed.
   */
  public static SkewedClock watching(Path file, long periodMs) {
    return new SkewedClock(file, periodMs);
  }

  /** The offset in {@code file}: 0 when there is none, {@code before} when it is unreadable. */
  private static long read(Path file, long before) {
    try {
      String text = Files.exists(file) ? Files.readString(file).trim() : "";
      return text.isEmpty() ? 0 : Long.parseLong(text);
    } catch (IOException | NumberFormatException e) {
      return before; // caught mid-write: keep the offset, read again next period
    }
  }

  /** Writes {@code offsetMs} to the file a node's clock watches. */
  public static void write(Path file, long offsetMs) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, Long.toString(offsetMs));
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
