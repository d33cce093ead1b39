package io.keel.bench;

import io.keel.harness.InJvmCluster;
import io.keel.recovery.WalOptions;
import io.keel.recovery.WalOptions.FsyncPolicy;
import io.keel.recovery.WalReader;
import io.keel.recovery.WriteAheadLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Write-ahead log benchmarks, a load generator with a {@code main} (not JMH: the interesting
 * figures are fsync-bound latencies under concurrency): append throughput and p50/p99 latency
 * for 100 B and 1 KiB records, 1 and 64 appenders, each fsync policy, against the disk's own limit
 * measured in the same run (one thread: {@code FileChannel.write} + {@code force(false)} on a
 * preallocated file), and that disk with two such threads forcing one file at once; and replay
 * of 1,000,000 records of 100 B (open + scan + iterate).
 *
 * <p>Arguments, all {@code key=value}: {@code seconds} per case (default 3), {@code warmupMs}
 * (500), {@code settleMs} (1000, a pause after preallocating), {@code sizes} (100,1024),
 * {@code appenders} (1,64), {@code policies} (always,group,interval), {@code replayRecords}
 * (1000000), {@code replayRuns} (3), {@code append} (true; false runs the replay only),
 * {@code dir} (target/wal-bench, emptied first and deleted after). Each case opens a fresh log
 * with the default options (64 MiB segments).
 */
public final class WalBenchmark {
  private static final long MIB = 1 << 20;

  private final Map<String, String> args;
  private final Path root;
  private final int seconds;
  private final int warmupMs;
  private final int settleMs;
  private int runs;

  private WalBenchmark(Map<String, String> args) {
    this.args = args;
    this.root = Path.of(args.getOrDefault("dir", "target/wal-bench"));
    this.seconds = Integer.parseInt(args.getOrDefault("seconds", "3"));
    this.warmupMs = Integer.parseInt(args.getOrDefault("warmupMs", "500"));
    this.settleMs = Integer.parseInt(args.getOrDefault("settleMs", "1000"));
  }

  /** Lets the disk finish the previous case's preallocation and deletes before measuring. */
  private void settle() throws InterruptedException {
    Thread.sleep(settleMs);
  }

  /** Runs the benchmarks; prints markdown tables. */
  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (String a : argv) {
      int eq = a.indexOf('=');
      args.put(a.substring(0, eq), a.substring(eq + 1));
    }
    new WalBenchmark(args).run();
  }

  private void run() throws Exception {
    InJvmCluster.deleteTree(root);
    Files.createDirectories(root);
    List<Integer> sizes = ints("sizes", "100,1024");
    List<Integer> appenders = ints("appenders", "1,64");
    List<FsyncPolicy> policies = Arrays.stream(args.getOrDefault("policies",
        "always,group,interval").split(",")).map(FsyncPolicy::parse).toList();
    int replayRecords = Integer.parseInt(args.getOrDefault("replayRecords", "1000000"));
    if (args.getOrDefault("append", "true").equals("false")) {
      replay(replayRecords, Integer.parseInt(args.getOrDefault("replayRuns", "3")));
      InJvmCluster.deleteTree(root);
      return;
    }
    System.out.printf("# WAL append: %d s per case, %d cores, %s%n%n", seconds,
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"));
    System.out.println("| case | record | appenders | records/s | MB/s | p50 µs | p99 µs"
        + " | p99 / raw p99 | records per force |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    Map<Integer, Result> raw = new HashMap<>();
    Map<String, Result> all = new HashMap<>();
    for (int size : sizes) {
      Result r = raw(size);
      raw.put(size, r);
      print("raw write+force", size, 1, r, r);
      // The pairs the targets compare run back to back: the disk's speed drifts over a run.
      for (String c : order(policies, appenders)) {
        String[] f = c.split("/");
        FsyncPolicy p = FsyncPolicy.parse(f[0]);
        int n = Integer.parseInt(f[1]);
        boolean loops = f.length > 2;
        Result a = append(p, size, n, loops);
        all.put(f[0] + "/" + size + "/" + n + (loops ? "/loops" : ""), a);
        print("WAL " + p.wire() + (loops ? ", in flight on 2 loops" : ", blocked threads"), size,
            n, a, r);
      }
      print("raw write+force, again", size, 1, raw(size), r);
      print("raw write+force, 2 writers at once", size, 2, raw(size, 2), r);
    }
    System.out.println();
    for (int size : sizes) {
      Result always1 = all.get("always/" + size + "/1");
      for (String driver : List.of("", "/loops")) {
        Result group64 = all.get("group/" + size + "/64" + driver);
        if (always1 != null && group64 != null) {
          System.out.printf(Locale.ROOT, "- %d B, %s: group x64 / always x1 throughput = %.1fx"
              + " (target >= 20x); group x64 p99 / raw p99 = %.2f (target <= 2)%n", size,
              driver.isEmpty() ? "64 blocked threads" : "64 in flight on 2 loops",
              group64.perSecond() / always1.perSecond(), group64.p99Us() / raw.get(size).p99Us());
        }
      }
    }
    if (replayRecords > 0) {
      replay(replayRecords, Integer.parseInt(args.getOrDefault("replayRuns", "3")));
    }
    InJvmCluster.deleteTree(root);
  }

  /** The cases in run order: the compared ones first (always x1, group x64), back to back. */
  private static List<String> order(List<FsyncPolicy> policies, List<Integer> appenders) {
    List<String> cases = new ArrayList<>();
    for (FsyncPolicy p : policies) {
      for (int n : appenders) {
        cases.add(p.wire() + "/" + n);
        if (n > 1) {
          cases.add(p.wire() + "/" + n + "/loops");
        }
      }
    }
    List<String> first = List.of("always/1", "group/64", "group/64/loops");
    List<String> out = new ArrayList<>(first.stream().filter(cases::contains).toList());
    cases.stream().filter(c -> !out.contains(c)).forEach(out::add);
    return out;
  }

  /** Latencies in ns of every measured operation, and the measured window. */
  private record Result(long[] latencies, long records, double seconds, int size,
      double perForce) {
    double perSecond() {
      return records / seconds;
    }

    double p50Us() {
      return percentile(0.50);
    }

    double p99Us() {
      return percentile(0.99);
    }

    double percentile(double q) {
      if (latencies.length == 0) {
        return Double.NaN;
      }
      int i = (int) Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1);
      return latencies[Math.max(0, i)] / 1000.0;
    }
  }

  private static void print(String name, int size, int n, Result r, Result raw) {
    System.out.printf(Locale.ROOT,
        "| %s | %d B | %d | %,.0f | %.1f | %.0f | %.0f | %.2f | %.1f |%n",
        name, size, n, r.perSecond(), r.perSecond() * size / MIB, r.p50Us(), r.p99Us(),
        r.p99Us() / raw.p99Us(), r.perForce());
  }

  /**
   * The disk's limit: one thread, write one record after the last and force, on a zeroed file of
   * 64 MiB (as a segment; kept until the end of the run, so that deleting it does not disturb the
   * next case).
   */
  private Result raw(int size) throws IOException, InterruptedException {
    return raw(size, 1);
  }

  /**
   * The same with {@code writers} threads on one file, each writing its own record and forcing:
   * whether a force started while another is in flight overlaps it (a log that let each batch's
   * force start at once would wait for one force, not for the rest of another and then its own).
   */
  private Result raw(int size, int writers) throws IOException, InterruptedException {
    Path file = root.resolve("raw-" + size + "-" + writers);
    long fileBytes = 64 * MIB;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer zeros = ByteBuffer.allocateDirect((int) MIB);
      for (long pos = 0; pos < fileBytes; pos += MIB) {
        ch.write(zeros.clear(), pos);
      }
      ch.force(true);
      settle();
      AtomicLong next = new AtomicLong();
      long start = System.nanoTime();
      long measureFrom = start + warmupMs * 1_000_000L;
      long end = measureFrom + seconds * 1_000_000_000L;
      long[][] lats = new long[writers][];
      int[] counts = new int[writers];
      long[] firsts = new long[writers];
      AtomicReference<Exception> failed = new AtomicReference<>();
      Thread[] threads = new Thread[writers];
      for (int w = 0; w < writers; w++) {
        int me = w;
        threads[w] = new Thread(() -> {
          ByteBuffer rec = ByteBuffer.allocateDirect(size);
          long[] lat = new long[1 << 22];
          int n = 0;
          try {
            for (long t0 = System.nanoTime(); t0 < end; t0 = System.nanoTime()) {
              long pos = next.getAndAdd(size) % (fileBytes - size);
              ch.write(rec.clear(), pos);
              ch.force(false);
              long t1 = System.nanoTime();
              if (t0 >= measureFrom && n < lat.length) {
                if (n == 0) {
                  firsts[me] = t0;
                }
                lat[n++] = t1 - t0;
              }
            }
          } catch (IOException | RuntimeException e) {
            failed.set(e);
          } finally {
            lats[me] = lat;
            counts[me] = n;
          }
        }, "raw-writer-" + w);
        threads[w].start();
      }
      for (Thread t : threads) {
        t.join();
      }
      if (failed.get() instanceof IOException e) {
        throw e;
      } else if (failed.get() != null) {
        throw new IllegalStateException("a raw writer failed", failed.get());
      }
      // From the earliest measured write of any writer.
      long measuredStart = measureFrom;
      boolean any = false;
      for (int w = 0; w < writers; w++) {
        if (counts[w] > 0 && (!any || firsts[w] - measuredStart < 0)) {
          measuredStart = firsts[w];
          any = true;
        }
      }
      double secs = (System.nanoTime() - measuredStart) / 1e9;
      int n = Arrays.stream(counts).sum();
      long[] l = new long[n];
      for (int w = 0, at = 0; w < writers; at += counts[w], w++) {
        System.arraycopy(lats[w], 0, l, at, counts[w]);
      }
      Arrays.sort(l);
      return new Result(l, n, secs, size, 1);
    }
  }

  /**
   * {@code n} appenders, each appending and waiting for its acknowledgement in a loop: either
   * {@code n} threads blocked on the future, or ({@code loops}) {@code n} appends kept in flight
   * by callbacks on two single-threaded executors, as Raft groups on two event loops would.
   */
  private Result append(FsyncPolicy policy, int size, int n, boolean loops) throws Exception {
    Path dir = root.resolve("append-" + (runs++));
    WalOptions options = new WalOptions().setFsyncPolicy(policy);
    byte[] payload = new byte[size];
    Arrays.fill(payload, (byte) 'x');
    long[][] lat = new long[n][];
    int[] count = new int[n];
    long[] ops = new long[n];
    try (WriteAheadLog wal = WriteAheadLog.open(dir, options)) {
      settle();
      long start = System.nanoTime();
      long measureFrom = start + warmupMs * 1_000_000L;
      long end = measureFrom + seconds * 1_000_000_000L;
      CountDownLatch done = new CountDownLatch(n);
      ExecutorService[] loop = {Executors.newSingleThreadExecutor(),
          Executors.newSingleThreadExecutor()};
      for (int t = 0; t < n; t++) {
        int id = t;
        lat[t] = new long[n == 1 ? 1 << 23 : 1 << 18];
        if (loops) {
          Runnable[] next = new Runnable[1];
          next[0] = () -> {
            long t0 = System.nanoTime();
            if (t0 >= end) {
              done.countDown();
              return;
            }
            wal.append(1, payload).whenCompleteAsync((lsn, err) -> {
              long t1 = System.nanoTime();
              if (t0 >= measureFrom) {
                ops[id]++;
                if (count[id] < lat[id].length) {
                  lat[id][count[id]++] = t1 - t0;
                }
              }
              next[0].run();
            }, loop[id % 2]);
          };
          loop[id % 2].execute(next[0]);
          continue;
        }
        Thread th = new Thread(() -> {
          try {
            for (long t0 = System.nanoTime(); t0 < end; t0 = System.nanoTime()) {
              wal.append(1, payload).join();
              long t1 = System.nanoTime();
              if (t0 >= measureFrom) {
                ops[id]++;
                if (count[id] < lat[id].length) {
                  lat[id][count[id]++] = t1 - t0;
                }
              }
            }
          } finally {
            done.countDown();
          }
        });
        th.start();
      }
      done.await();
      loop[0].shutdown();
      loop[1].shutdown();
      double secs = (System.nanoTime() - measureFrom) / 1e9;
      int total = Arrays.stream(count).sum();
      long[] all = new long[total];
      int at = 0;
      for (int t = 0; t < n; t++) {
        System.arraycopy(lat[t], 0, all, at, count[t]);
        at += count[t];
      }
      Arrays.sort(all);
      return new Result(all, Arrays.stream(ops).sum(), secs, size,
          wal.commitForces() == 0 ? Double.NaN : (double) wal.lastLsn() / wal.commitForces());
    } finally {
      InJvmCluster.deleteTree(dir);
    }
  }

  /** Writes {@code records} records of 100 B, then opens, scans and iterates them, timed. */
  private void replay(int records, int repeat) throws Exception {
    Path dir = root.resolve("replay");
    byte[] payload = new byte[100];
    Arrays.fill(payload, (byte) 'r');
    try (WriteAheadLog wal = WriteAheadLog.open(dir,
        new WalOptions().setFsyncPolicy(FsyncPolicy.INTERVAL))) {
      List<CompletableFuture<Long>> window = new ArrayList<>();
      for (int i = 0; i < records; i++) {
        window.add(wal.append(1, payload));
        if (window.size() == 4096) {
          window.get(window.size() - 1).join();
          window.clear();
        }
      }
      CompletableFuture.allOf(window.toArray(new CompletableFuture<?>[0])).join();
    }
    long files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(p -> p.toString().endsWith(".wal")).count();
    }
    System.out.printf("%n# WAL replay: %,d records of 100 B, %d segment(s) of 64 MiB%n%n",
        records, files);
    System.out.println("| run | one pass: open with replay ms | records/s | two passes: open ms"
        + " | then readFrom ms | records/s |");
    System.out.println("|---|---|---|---|---|---|");
    for (int run = 1; run <= repeat; run++) {
      long[] n = new long[1];
      long t0 = System.nanoTime();
      try (WriteAheadLog wal = WriteAheadLog.open(dir, new WalOptions(),
          r -> n[0] += r.payload().length > 0 ? 1 : 0)) {
        requireCount(n[0], wal.lastLsn());
      }
      long onePass = System.nanoTime() - t0;
      n[0] = 0;
      t0 = System.nanoTime();
      long t1;
      try (WriteAheadLog wal = WriteAheadLog.open(dir, new WalOptions())) {
        t1 = System.nanoTime();
        try (WalReader r = wal.readFrom(wal.firstLsn())) {
          while (r.hasNext()) {
            n[0] += r.next().payload().length > 0 ? 1 : 0;
          }
        }
      }
      long t2 = System.nanoTime();
      requireCount(n[0], records);
      System.out.printf(Locale.ROOT, "| %d | %.0f | %,.0f | %.0f | %.0f | %,.0f |%n", run,
          onePass / 1e6, records / (onePass / 1e9), (t1 - t0) / 1e6, (t2 - t1) / 1e6,
          records / ((t2 - t0) / 1e9));
    }
    System.out.println("\n(target: >= 1,000,000 records/s, open + scan + iterate; run 1 is the"
        + " first in this JVM, so its replay code is cold, as after a restart)");
  }

  private static void requireCount(long n, long records) {
    if (n != records) {
      throw new AssertionError("replayed " + n + " of " + records);
    }
  }

  private List<Integer> ints(String key, String dflt) {
    return Arrays.stream(args.getOrDefault(key, dflt).split(",")).map(Integer::parseInt).toList();
  }
}
