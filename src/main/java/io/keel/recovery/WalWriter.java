package io.keel.recovery;

import io.keel.recovery.WalOptions.FsyncPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log's single writer thread: takes appends from the queue in batches, assigns LSNs, writes
 * each batch with as few {@code write} calls as its buffer allows, forces per the policy, then
 * completes the batch's futures. Tasks (truncate, snapshot mark, delete, close) run between
 * batches, after the appends queued before them are committed.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Group commit without a timer: while one batch is being forced, the appenders that arrive
 * queue up, and the next batch is everything queued (up to {@code groupBatchMax}), so the number
 * of forces adapts to the load: one per append when appends come one at a time, one per 64 when
 * 64 appenders wait. {@code groupCommitWaitMicrosMax} adds an optional bounded wait for more
 * appends after the first of a batch. With {@code always} a batch is one record.
 */
final class WalWriter implements Runnable {
  // Records written since the last force, for the observer's batch size.
  private int unforced;
  private static final Logger log = LoggerFactory.getLogger(WalWriter.class);

  private final WriteAheadLog wal;
  private final WalOptions options;
  private final BlockingQueue<WalOp> queue;
  private final Thread thread;
  private final ByteBuffer buf;
  private final List<WalOp> batch = new ArrayList<>();
  private final List<WalOp> appends = new ArrayList<>();
  private final long intervalNanos;
  // Invariant: the LSN of the newest record written to (or buffered for) the active segment.
  private volatile long lastLsn;
  // Invariant: with interval, true while records are written but not forced.
  private boolean dirty;
  private long forceDueNanos;
  private volatile boolean running = true;
  // Non-null once an I/O operation failed; the log then refuses everything.
  private IOException failure;

  WalWriter(WriteAheadLog wal, WalOptions options, BlockingQueue<WalOp> queue) {
    this.wal = wal;
    this.options = options;
    this.queue = queue;
    this.lastLsn = wal.lastSegment().lastLsn;
    this.buf = ByteBuffer.allocateDirect(
        Math.max(1 << 20, options.getRecordBytesMax() + WalRecord.HEADER_BYTES));
    this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(options.getFsyncIntervalMs());
    this.thread = new Thread(this, "keel-wal-writer-" + wal.dir().getFileName());
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  void stop() throws IOException {
    running = false;
    if (dirty) {
      force();
    }
  }

  void join() {
    if (Thread.currentThread() == thread) {
      return;
    }
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  boolean isAlive() {
    return thread.isAlive();
  }

  long lastLsn() {
    return lastLsn;
  }

  void resetTo(long lsn) {
    lastLsn = lsn;
  }

  @Override
  public void run() {
    try {
      while (running) {
        WalOp first = takeFirst();
        if (first == null) {
          continue;
        }
        batch.add(first);
        if (options.getFsyncPolicy() != FsyncPolicy.ALWAYS) {
          gather();
        }
        process();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      log.error("write-ahead log {}: writer thread failed", wal.dir(), t);
      failure = new IOException("writer thread failed", t);
    }
    IllegalStateException closed = new IllegalStateException("write-ahead log closed");
    for (WalOp op : batch) {
      op.done.completeExceptionally(closed);
    }
    for (WalOp op; (op = queue.poll()) != null;) {
      op.done.completeExceptionally(closed);
    }
  }

  private WalOp takeFirst() throws InterruptedException, IOException {
    if (!dirty) {
      return queue.take();
    }
    long wait = forceDueNanos - System.nanoTime();
    WalOp op = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : null;
    if (op == null && failure == null) {
      try {
        force();
      } catch (IOException e) {
        fail(e);
      }
    }
    return op;
  }

  private void gather() throws InterruptedException {
    int max = options.getGroupBatchMax();
    queue.drainTo(batch, max - batch.size());
    long waitNanos = options.getGroupCommitWaitMicrosMax() * 1000L;
    if (waitNanos == 0 || options.getFsyncPolicy() != FsyncPolicy.GROUP) {
      return;
    }
    long deadline = System.nanoTime() + waitNanos;
    while (batch.size() < max) {
      long left = deadline - System.nanoTime();
      WalOp op = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
      if (op == null) {
        return;
      }
      batch.add(op);
      queue.drainTo(batch, max - batch.size());
    }
  }

  private void process() {
    for (int i = 0; i < batch.size(); i++) {
      WalOp op = batch.get(i);
      if (op.task == null) {
        appends.add(op);
        continue;
      }
      commit();
      runTask(op);
      if (!running) {
        batch.subList(0, i + 1).clear();
        return;
      }
    }
    commit();
    batch.clear();
  }

  private void runTask(WalOp op) {
    if (failure != null) {
      op.done.completeExceptionally(failure);
      return;
    }
    try {
      op.done.complete(op.task.call());
    } catch (IOException e) {
      fail(e);
      op.done.completeExceptionally(e);
    } catch (Exception e) {
      op.done.completeExceptionally(e);
    }
  }

  /** Writes the pending appends, forces per the policy, and completes their futures. */
  private void commit() {
    if (appends.isEmpty()) {
      return;
    }
    try {
      if (failure != null) {
        throw failure;
      }
      write(appends);
      if (options.getFsyncPolicy() != FsyncPolicy.INTERVAL) {
        force();
      } else if (!dirty) {
        dirty = true;
        forceDueNanos = System.nanoTime() + intervalNanos;
      }
      for (WalOp op : appends) {
        op.done.complete(op.lsn);
      }
      if (dirty && System.nanoTime() - forceDueNanos >= 0) {
        force();
      }
    } catch (IOException e) {
      fail(e);
      for (WalOp op : appends) {
        op.done.completeExceptionally(e);
      }
    } finally {
      appends.clear();
    }
  }

  /** Writes one record now and forces it, whatever the policy: for the log's own marks. */
  long writeNow(int type, byte[] payload) throws IOException {
    WalOp op = WalOp.append(type, payload);
    write(List.of(op));
    force();
    return op.lsn;
  }

  private void write(List<WalOp> ops) throws IOException {
    unforced += ops.size();
    WalSegment seg = wal.lastSegment();
    long lsn = lastLsn;
    for (WalOp op : ops) {
      int frame = op.frameBytes();
      if (seg.dataEnd + buf.position() + frame > options.getSegmentBytesMax()) {
        flush(seg, lsn);
        seg = roll(lsn + 1);
      } else if (buf.remaining() < frame) {
        flush(seg, lsn);
      }
      op.lsn = ++lsn;
      WalRecord.encode(buf, op.type, op.lsn, op.payload, 0, op.payload.length);
    }
    flush(seg, lsn);
  }

  private void flush(WalSegment seg, long lsn) throws IOException {
    buf.flip();
    long pos = seg.dataEnd;
    while (buf.hasRemaining()) {
      pos += seg.channel.write(buf, pos);
    }
    buf.clear();
    seg.dataEnd = (int) pos;
    seg.lastLsn = lsn;
    lastLsn = lsn;
  }

  /** Forces the full segment, then creates the next: only the last segment can be torn. */
  private WalSegment roll(long baseLsn) throws IOException {
    WalSegment old = wal.lastSegment();
    old.channel.force(false);
    WalSegment next = wal.createSegment(baseLsn);
    old.channel.close();
    old.channel = null;
    wal.segments().add(next);
    log.debug("write-ahead log {}: rolled from {} to {}", wal.dir(), old.name(), next.name());
    return next;
  }

  private void force() throws IOException {
    long start = System.nanoTime();
    wal.lastSegment().channel.force(false);
    wal.commitForceCounter().incrementAndGet();
    wal.observer().forced(System.nanoTime() - start, unforced);
    unforced = 0;
    dirty = false;
  }

  private void fail(IOException e) {
    dirty = false; // nothing more will be forced
    if (failure == null) {
      failure = e;
      log.error("write-ahead log {}: I/O failed; refusing further writes", wal.dir(), e);
    }
  }
}
