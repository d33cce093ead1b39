package io.keel.recovery;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

/**
 * Hands a log scan's records to {@code target} on a thread of its own, in order and in batches,
 * so that decoding and applying them overlaps with the scan's reads and checksums instead of
 * following them: replay takes the longer of the two rather than their sum.
 *
 * <p>At most {@link #BATCHES_AHEAD} batches wait, so the scan never holds more than a few
 * thousand records the target has not taken. {@link #finish()} waits for the last batch and
 * throws what {@code target} threw, an {@code Error} included; after a throw the target sees
 * no further record.
 * {@link #accept} is called from one thread (the scan's).
 */
final class ReplayPipeline implements Consumer<WalRecord>, AutoCloseable {
  static final int BATCH = 1_024;
  static final int BATCHES_AHEAD = 8;

  private final Consumer<WalRecord> target;
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "keel-wal-replay");
    t.setDaemon(true);
    return t;
  });
  private final Semaphore ahead = new Semaphore(BATCHES_AHEAD);
  private List<WalRecord> batch = new ArrayList<>(BATCH);
  // Written by the worker, read by the scan's thread after a semaphore hand-over or a get().
  private volatile Throwable failure;

  ReplayPipeline(Consumer<WalRecord> target) {
    this.target = target;
  }

  @Override
  public void accept(WalRecord r) {
    batch.add(r);
    if (batch.size() == BATCH) {
      submit();
    }
  }

  /** Waits until {@code target} has taken every record; rethrows what it threw. */
  void finish() {
    if (!batch.isEmpty()) {
      submit();
    }
    // Every batch has ended once all permits are back: a batch never throws (see submit).
    try {
      ahead.acquire(BATCHES_AHEAD);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the write-ahead log replayed", e);
    }
    ahead.release(BATCHES_AHEAD);
    rethrowFailure();
  }

  private void submit() {
    List<WalRecord> full = batch;
    batch = new ArrayList<>(BATCH);
    rethrowFailure();
    ahead.acquireUninterruptibly();
    worker.execute(() -> {
      try {
        if (failure == null) {
          full.forEach(target);
        }
      } catch (Throwable e) {
        // Kept, not thrown: an Error lost in the worker would let later batches apply.
        failure = e;
      } finally {
        ahead.release();
      }
    });
  }

  private void rethrowFailure() {
    Throwable f = failure;
    if (f instanceof RuntimeException e) {
      throw e;
    }
    if (f instanceof Error e) {
      throw e;
    }
    if (f != null) {
      throw new IllegalStateException("replay failed: " + f, f);
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
