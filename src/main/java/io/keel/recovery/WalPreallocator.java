package io.keel.recovery;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Prepares the next segment file in the background: zero-filled and forced under a temporary
 * name, then renamed into place at rollover, so that the writer does not stop appenders for the
 * seconds it can take to write 64 MiB of zeros. Used by the writer thread only (and by open,
 * before the writer starts).
 */
final class WalPreallocator {
  static final String SPARE = "spare.wal.tmp";

  private final Path file;
  private final int bytes;
  private final ExecutorService exec;
  // The spare being prepared, or null.
  private Future<Path> spare;

  WalPreallocator(Path dir, int bytes) {
    this.file = dir.resolve(SPARE);
    this.bytes = bytes;
    this.exec = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "keel-wal-prealloc-" + dir.getFileName());
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts preparing a spare, unless one is already prepared or being prepared. */
  void prepare() {
    if (spare != null) {
      return;
    }
    spare = exec.submit(() -> {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        WalSegment.fillZeros(ch, 0, bytes);
      }
      return file;
    });
  }

  /**
   * Renames the spare to {@code target}, waiting for it if it is not ready yet.
   *
   * @return false when there is no usable spare: the caller preallocates the file itself
   */
  boolean take(Path target) throws IOException {
    Future<Path> f = spare;
    spare = null;
    if (f == null) {
      return false;
    }
    try {
      Files.move(f.get(), target, StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for the spare segment", e);
    }
  }

  /** Stops, and deletes an unused spare. */
  void close() throws IOException {
    exec.shutdown();
    try {
      exec.awaitTermination(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Files.deleteIfExists(file);
  }
}
