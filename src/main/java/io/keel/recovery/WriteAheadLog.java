package io.keel.recovery;

import io.keel.recovery.WalOptions.FsyncPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's write-ahead log: one directory of segment files, appended by any thread, written and
 * forced by one writer thread (group commit), replayed on restart.
 *
 * <h2>Thread safety and blocking</h2>
 *
 * <p>Every method is thread-safe. {@link #append} queues the record and returns a future
 * completed (on the writer thread, so attach only short callbacks or use the {@code *Async}
 * forms) with the record's LSN once the record is as durable as the {@link FsyncPolicy}
 * promises. It blocks only while {@code appendQueueMax} operations already wait (backpressure:
 * never a rejected record in the middle of a caller's sequence). Futures complete in LSN order,
 * and a failure fails every later append too, so waiting for the last future of a sequence
 * waits for all of it (unless the caller was interrupted while an append blocked: that one
 * fails alone). {@link #open}, {@link #readFrom}, {@link #truncateAfter}, {@link #markSnapshot},
 * {@link #deleteSegmentsBefore}, {@link #releaseBefore}, {@link #segmentFiles} and {@link #close} block on disk I/O: call
 * them off the event loop. All but {@code open} run on the writer thread, in order with the appends
 * queued before them, so they see every earlier append written (and, except with
 * {@code interval}, forced). After any I/O failure (a failed fsync included: its data may be
 * lost, so it is never retried) the log refuses every later operation. One process and one log
 * at a time per directory: {@code open} takes a file lock ({@code wal.lock}).
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Segments are named by their base LSN ({@code %020d.wal}) and preallocated with zeros
 * ({@link WalSegment#fillZeros}: written, not {@code setLength}, so that appends overwrite
 * allocated blocks and {@code force(false)} need not journal the file's size or block map); the
 * next segment is prepared in the background ({@link WalPreallocator}). The writer rolls to a new
 * segment when a record does not fit and forces the old one first, so only the last segment can
 * have a torn tail. Recovery on open is
 * {@link WalScan}'s decision; a cut is carried out by truncating the file at the last valid record
 * (atomic in the file system's journal) and zero-filling it back to its size.
 *
 * <p>Truncation ({@link #truncateAfter}) is physical. A log shared by many Raft groups cannot
 * physically drop one group's uncommitted suffix without dropping the others' records: the
 * RaftStore above this log appends its own truncation record (group, index) and applies it on
 * replay; physical truncation is for a log owned by one writer and for tests.
 */
public final class WriteAheadLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WriteAheadLog.class);
  private static final String LOCK_FILE = "wal.lock";

  /** How the log opens files; tests wrap the channel to count or fail forces. */
  @FunctionalInterface
  interface Channels {
    FileChannel open(Path path) throws IOException;
  }

  /**
   * What recovery found on open.
   *
   * @param firstLsn the first retained LSN (the next one, when the log is empty)
   * @param lastLsn the last valid record's LSN ({@code firstLsn - 1} when there is none)
   * @param segments the segment files kept
   * @param cutFile the segment whose torn tail was cut, or null
   * @param cutOffset where it was cut (the end of its last valid record), or -1
   * @param bytesCut how many bytes were cut: from the offset through the last non-zero byte
   */
  public record Recovery(long firstLsn, long lastLsn, int segments, String cutFile,
      long cutOffset, long bytesCut) {}

  private final Path dir;
  private final WalOptions options;
  private final Channels channels;
  // Mutated only by the writer thread (and open); read by any.
  private final List<WalSegment> segments = new CopyOnWriteArrayList<>();
  private final BlockingQueue<WalOp> queue;
  private final AtomicLong commitForces = new AtomicLong();
  private final Recovery recovery;
  private final WalWriter writer;
  private volatile Observer observer = (nanos, records) -> { };
  // Orders appends with lastAppend: appends complete in queue order, so the newest one's future
  // completes only after every earlier one's.
  private final Object appendOrder = new Object();
  private volatile CompletableFuture<?> lastAppend = CompletableFuture.completedFuture(0L);

  /** Hears of every force of the log: for metrics. Called on the writer thread; be quick. */
  @FunctionalInterface
  public interface Observer {
    /** A force took {@code nanos} and made {@code records} records durable. */
    void forced(long nanos, int records);
  }

  /** Reports every force from now on to {@code observer}. */
  public void observe(Observer observer) {
    this.observer = observer;
  }

  Observer observer() {
    return observer;
  }
  private final WalPreallocator preallocator;
  private volatile long snapshotLsn;
  // Invariant: the LSN of the newest snapshot mark record, 0 if none.
  private long snapshotMarkLsn;
  private volatile boolean closed;
  // Held while the log is open: one writer per directory, across processes.
  private FileChannel lock;

  private WriteAheadLog(Path dir, WalOptions options, Channels channels,
      Consumer<WalRecord> replay) throws IOException {
    this.dir = dir;
    this.options = new WalOptions(options).validate();
    this.channels = channels;
    this.queue = new ArrayBlockingQueue<>(options.getAppendQueueMax());
    this.preallocator = new WalPreallocator(dir, this.options.getSegmentBytesMax());
    Files.deleteIfExists(dir.resolve(WalPreallocator.SPARE));
    this.recovery = recover(replay);
    this.writer = new WalWriter(this, this.options, queue);
  }

  /**
   * Opens (or creates) the log in {@code dir}: locks the directory ({@code wal.lock}), scans
   * every segment, cuts a torn tail (logged at WARN with file, offset and bytes), and starts the
   * writer thread.
   *
   * @throws WalCorruptionException naming file and offset when a record before the tail is bad
   */
  public static WriteAheadLog open(Path dir, WalOptions options) throws IOException {
    return open(dir, options, (Consumer<WalRecord>) null);
  }

  /**
   * Opens the log as {@link #open(Path, WalOptions)} does, and replays it in the same pass: each
   * valid record, oldest first, goes to {@code replay} as the scan reads it, before the log is
   * ready for appends. Saves the second read of {@link #readFrom}. If this throws, discard what
   * {@code replay} received: the log is corrupt after it.
   */
  public static WriteAheadLog open(Path dir, WalOptions options, Consumer<WalRecord> replay)
      throws IOException {
    return openWith(dir, options, p -> FileChannel.open(p, WalSegment.WRITE), replay);
  }

  static WriteAheadLog openWith(Path dir, WalOptions options, Channels channels)
      throws IOException {
    return openWith(dir, options, channels, null);
  }

  static WriteAheadLog openWith(Path dir, WalOptions options, Channels channels,
      Consumer<WalRecord> replay) throws IOException {
    Files.createDirectories(dir);
    FileChannel lock = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    try {
      if (lock.tryLock() == null) {
        throw new OverlappingFileLockException();
      }
    } catch (OverlappingFileLockException e) {
      lock.close();
      throw new IOException("write-ahead log " + dir + " is open in another process or log");
    }
    try {
      WriteAheadLog wal = new WriteAheadLog(dir, options, channels, replay);
      wal.lock = lock;
      wal.preallocator.prepare();
      wal.writer.start();
      return wal;
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /**
   * Reads the log in {@code dir} as {@link #open} would, changing nothing: throws
   * {@link WalCorruptionException} if opening it would, and does nothing for a torn tail (the
   * open cuts it) or a missing directory: to check a log without opening it. (A standalone
   * node does not need this: it opens and replays its log before it joins the cluster, see
   * {@link RecoveryVerticle#replayLog}, which stops it on the same corruption.)
   */
  public static void check(Path dir, WalOptions options) throws IOException {
    if (Files.isDirectory(dir)) {
      scan(dir, options, null);
    }
  }

  /** Scans every segment of {@code dir} in LSN order, feeding {@code replay}; changes nothing. */
  private static WalScan.Plan scan(Path dir, WalOptions options, Consumer<WalRecord> replay)
      throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> WalSegment.parseBase(p.getFileName().toString()) > 0).sorted().toList();
    }
    WalScan scan = new WalScan(options.getRecordBytesMax(), replay);
    ByteBuffer buf = ByteBuffer.allocate(0);
    for (Path p : files) {
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        if (ch.size() > Integer.MAX_VALUE - 8) {
          throw new WalCorruptionException(p.getFileName().toString(), 0, "segment too large");
        }
        int size = (int) ch.size();
        buf = buf.capacity() >= size ? buf : ByteBuffer.allocate(size);
        scan.segment(p.getFileName().toString(), WalSegment.parseBase(p.getFileName().toString()),
            WalSegment.readInto(ch, buf, size));
      }
    }
    return scan.finish();
  }

  private Recovery recover(Consumer<WalRecord> replay) throws IOException {
    WalScan.Plan plan = scan(dir, options, replay);
    snapshotLsn = plan.snapshotLsn();
    snapshotMarkLsn = plan.snapshotMarkLsn();
    for (String name : plan.deleted()) {
      log.warn("write-ahead log {}: deleting segment {} after the torn tail", dir, name);
      Files.deleteIfExists(dir.resolve(name));
    }
    for (WalScan.Segment s : plan.segments()) {
      segments.add(new WalSegment(dir.resolve(s.name()), s.baseLsn(), s.lastLsn(), s.dataEnd()));
    }
    if (segments.isEmpty()) {
      segments.add(createSegment(1));
    } else {
      openActive(plan.cut());
    }
    WalScan.Cut cut = plan.cut();
    return new Recovery(segments.get(0).baseLsn, lastSegment().lastLsn, segments.size(),
        cut == null ? null : cut.name(), cut == null ? -1 : cut.offset(),
        cut == null ? 0 : cut.bytes());
  }

  private void openActive(WalScan.Cut cut) throws IOException {
    WalSegment last = lastSegment();
    last.channel = channels.open(last.path);
    if (cut != null) {
      log.warn("write-ahead log {}: cut a torn tail of {} bytes at {} offset {} ({}); the log ends"
          + " at LSN {}", dir, cut.bytes(), cut.name(), cut.offset(), cut.why(), last.lastLsn);
      last.channel.truncate(cut.offset());
      last.channel.force(true);
    }
    long size = last.channel.size();
    if (size < options.getSegmentBytesMax()) {
      WalSegment.fillZeros(last.channel, size, options.getSegmentBytesMax());
    }
    WalSegment.syncDirectory(dir);
  }

  /** Creates, preallocates and syncs a new segment whose first record will be {@code baseLsn}. */
  WalSegment createSegment(long baseLsn) throws IOException {
    WalSegment s = new WalSegment(dir.resolve(WalSegment.fileName(baseLsn)), baseLsn,
        baseLsn - 1, 0);
    boolean prepared = preallocator.take(s.path);
    s.channel = channels.open(s.path);
    if (!prepared) {
      WalSegment.fillZeros(s.channel, 0, options.getSegmentBytesMax());
    }
    WalSegment.syncDirectory(dir);
    preallocator.prepare();
    return s;
  }

  /**
   * Appends a record; the future completes with its LSN when it is durable per the policy, or
   * fails (log closed or failed, I/O error). Blocks while {@code appendQueueMax} operations wait.
   *
   * @param type 1..254 ({@link WalRecord#TYPE_SNAPSHOT} is the log's own)
   * @param payload at most {@code recordBytesMax} bytes; not copied, do not modify it
   */
  public CompletableFuture<Long> append(int type, byte[] payload) {
    WalRecord.requireType(type);
    if (type == WalRecord.TYPE_SNAPSHOT) {
      throw new IllegalArgumentException("type " + type + " is reserved for snapshot marks");
    }
    if (payload.length > options.getRecordBytesMax()) {
      throw new IllegalArgumentException("payload must be <= recordBytesMax ("
          + options.getRecordBytesMax() + ") bytes, was " + payload.length);
    }
    WalOp op = WalOp.append(type, payload);
    synchronized (appendOrder) {
      CompletableFuture<Long> f = enqueue(op);
      lastAppend = f;
      return f;
    }
  }

  /**
   * A future that completes once every record appended before this call is durable per the
   * policy, and fails if any of them fails: what a sender waits for before it tells another
   * node, or a client, anything that depends on those records.
   */
  public CompletableFuture<?> barrier() {
    return lastAppend;
  }

  private <T> CompletableFuture<T> enqueue(WalOp op) {
    @SuppressWarnings("unchecked")
    CompletableFuture<T> f = (CompletableFuture<T>) op.done;
    if (closed) {
      f.completeExceptionally(new IllegalStateException("write-ahead log " + dir + " is closed"));
    } else if (!queue.offer(op)) {
      try {
        queue.put(op); // backpressure: appendQueueMax operations already wait
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        f.completeExceptionally(e);
      }
    }
    return f;
  }

  /** Runs {@code task} on the writer thread after the queued appends, and waits for it. */
  private <T> T call(Callable<T> task) throws IOException {
    CompletableFuture<T> f = enqueue(WalOp.task(task));
    try {
      while (true) {
        try {
          return f.get(100, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          if (!writer.isAlive() && !f.isDone()) {
            throw new IOException("write-ahead log " + dir + ": the writer thread has stopped");
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for the write-ahead log", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw io;
      }
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException(c);
    }
  }

  /**
   * Replays the log from {@code lsn} (inclusive) to the last record written when this is
   * called. The reader reads the segment files directly; do not delete or truncate the records it
   * has still to read while it is open.
   *
   * @param lsn the first LSN wanted; at least {@link #firstLsn()}
   */
  public WalReader readFrom(long lsn) throws IOException {
    List<WalSegment> view = call(() -> {
      if (lsn < segments.get(0).baseLsn) {
        throw new IllegalArgumentException("lsn must be >= the first retained LSN "
            + segments.get(0).baseLsn + ", was " + lsn);
      }
      List<WalSegment> out = new ArrayList<>();
      for (WalSegment s : segments) {
        if (s.lastLsn >= lsn) {
          out.add(new WalSegment(s.path, s.baseLsn, s.lastLsn, s.dataEnd));
        }
      }
      return out;
    });
    return new WalReader(view, lsn, options.getRecordBytesMax());
  }

  /**
   * Removes every record after {@code lsn}, durably; the next append gets {@code lsn + 1}. A
   * snapshot mark removed with them is written again.
   *
   * @throws IllegalArgumentException when {@code lsn} is below the snapshot or the first record
   */
  public void truncateAfter(long lsn) throws IOException {
    call(() -> {
      new WalTruncation(this).truncateAfter(lsn);
      return null;
    });
  }

  /**
   * Records, durably, that the caller's snapshots cover every record up to {@code lsn}, so that
   * {@link #deleteSegmentsBefore} may delete them. Returns the mark record's own LSN.
   */
  public long markSnapshot(long lsn) throws IOException {
    return call(() -> {
      if (lsn < snapshotLsn || lsn > lastSegment().lastLsn) {
        throw new IllegalArgumentException("snapshot lsn must be " + snapshotLsn + ".."
            + lastSegment().lastLsn + ", was " + lsn);
      }
      return writeSnapshotMark(lsn);
    });
  }

  long writeSnapshotMark(long lsn) throws IOException {
    byte[] payload = ByteBuffer.allocate(8).putLong(lsn).array();
    long markLsn = writer.writeNow(WalRecord.TYPE_SNAPSHOT, payload);
    snapshotMarkLsn = markLsn;
    snapshotLsn = lsn;
    return markLsn;
  }

  /**
   * Deletes the whole segments whose records all have LSNs below {@code lsn}, oldest first; never
   * the segment being written. Returns how many were deleted.
   *
   * @throws IllegalArgumentException when {@code lsn} is above the snapshot mark + 1
   */
  public int deleteSegmentsBefore(long lsn) throws IOException {
    return call(() -> {
      if (lsn > snapshotLsn + 1) {
        throw new IllegalArgumentException("lsn must be <= snapshot mark + 1 ("
            + (snapshotLsn + 1) + "), was " + lsn);
      }
      return deleteBefore(lsn);
    });
  }

  /**
   * Deletes the whole segments whose records all have LSNs below {@code lsn}, which the caller
   * no longer needs (its snapshots and checkpoints cover them), marking {@code lsn - 1} as a
   * snapshot first when that deletes anything. Never the segment being written. Returns how many
   * segments were deleted.
   */
  public int releaseBefore(long lsn) throws IOException {
    return call(() -> {
      if (segments.size() < 2 || segments.get(0).lastLsn >= lsn) {
        return 0;
      }
      long mark = Math.min(lsn - 1, lastSegment().lastLsn);
      if (mark > snapshotLsn) {
        writeSnapshotMark(mark);
      }
      return deleteBefore(Math.min(lsn, snapshotLsn + 1));
    });
  }

  private int deleteBefore(long lsn) throws IOException {
    int n = 0;
    while (segments.size() > 1 && segments.get(0).lastLsn < lsn) {
      WalSegment s = segments.remove(0);
      s.delete();
      log.info("write-ahead log {}: deleted segment {} (LSN {}..{}) before {}", dir, s.name(),
          s.baseLsn, s.lastLsn, lsn);
      n++;
    }
    if (n > 0) {
      WalSegment.syncDirectory(dir);
    }
    return n;
  }

  /** How many segment files the log has now. */
  public int segmentCount() {
    return segments.size();
  }

  /**
   * The LSN of the oldest segment's last record: what a caller must no longer need for that
   * segment to be deleted.
   */
  public long oldestSegmentLastLsn() {
    return segments.get(0).lastLsn;
  }

  /** What recovery found when the log was opened. */
  public Recovery recovery() {
    return recovery;
  }

  /** The LSN of the oldest retained record (or the next one, when the log is empty). */
  public long firstLsn() {
    return segments.get(0).baseLsn;
  }

  /** The LSN of the newest record written (acknowledged or about to be). */
  public long lastLsn() {
    return writer.lastLsn();
  }

  /** The newest snapshot mark: records up to it may be deleted; 0 if none. */
  public long snapshotLsn() {
    return snapshotLsn;
  }

  /** How many forces committed appended records (not counting preallocation). */
  public long commitForces() {
    return commitForces.get();
  }

  /** The segment files, oldest first. */
  public List<Path> segmentFiles() throws IOException {
    return call(() -> segments.stream().map(s -> s.path).toList());
  }

  /**
   * Writes and forces every queued append, stops the writer and closes the files. Appends after
   * this fail.
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      call(() -> {
        closed = true;
        writer.stop();
        return null;
      });
    } finally {
      closed = true;
      writer.join();
      WalSegment last = lastSegment();
      if (last.channel != null) {
        last.channel.close();
      }
      preallocator.close();
      lock.close();
    }
  }

  Path dir() {
    return dir;
  }

  WalOptions options() {
    return options;
  }

  List<WalSegment> segments() {
    return segments;
  }

  WalSegment lastSegment() {
    return segments.get(segments.size() - 1);
  }

  long snapshotMarkLsn() {
    return snapshotMarkLsn;
  }

  AtomicLong commitForceCounter() {
    return commitForces;
  }

  WalWriter writer() {
    return writer;
  }

  FileChannel openChannel(Path path) throws IOException {
    return channels.open(path);
  }
}
