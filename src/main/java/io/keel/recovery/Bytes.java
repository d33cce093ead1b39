package io.keel.recovery;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Small binary records for state machines: commands, answers and snapshots written with
 * {@link DataOutputStream} and read back with {@link DataInputStream}. Pure.
 */
public final class Bytes {
  /** Writes a record. */
  @FunctionalInterface
  public interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  /** Reads a record. */
  @FunctionalInterface
  public interface Reader<T> {
    T read(DataInputStream in) throws IOException;
  }

  private Bytes() {}

  /** The bytes {@code writer} writes. */
  public static byte[] write(Writer writer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writer.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * What {@code reader} reads from {@code bytes}.
   *
   * @throws IllegalArgumentException when the bytes end early or are not what the reader
   *     expects
   */
  public static <T> T read(byte[] bytes, Reader<T> reader) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      return reader.read(in);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("malformed record: " + e, e);
    }
  }
}
