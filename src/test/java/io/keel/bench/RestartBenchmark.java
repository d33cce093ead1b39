package io.keel.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.bus.Addresses;
import io.keel.harness.FreePorts;
import io.keel.harness.InJvmCluster;
import io.keel.recovery.GroupImage;
import io.keel.recovery.RaftCodec;
import io.keel.recovery.RaftLogReplay;
import io.keel.recovery.RecoveryVerticle;
import io.keel.recovery.WalOptions;
import io.keel.recovery.WriteAheadLog;
import io.keel.recovery.PartitionGroups;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;

/**
 * Restart time of a data node with a large write-ahead log, end to end through the real node
 * (a {@code main}, not JMH: each measurement is one restart of a clustered Vert.x node).
 *
 * <p>One data node in this JVM (loopback, free ports, HTTP off, a temporary data directory
 * deleted at the end) is filled with {@code entries} {@code keel.counter.add} requests, each one
 * Raft log entry committed through its key's partition group, {@code in-flight} at a time, over
 * {@code keys} distinct keys. Then, {@code runs} times, the node is closed and started again
 * with the same options, and these are measured from the call to {@link Keel#start}:
 *
 * <ul>
 *   <li><b>replayed</b>: the log is read and every group's image rebuilt (taken when
 *       {@link RecoveryVerticle} logs "write-ahead log … replayed in N ms");
 *   <li><b>replay</b>: the N ms of that line (open + scan + rebuilding every group's image), and
 *       its LSN range; records/s = (lastLsn − firstLsn + 1) / replay;
 *   <li><b>ready</b>: {@link Keel#start}'s future completed: the groups run, recovery is
 *       {@code catching-up} and {@code /health/ready} answers UP, counters are served;
 *   <li><b>active + verified</b>: every local replica is active
 *       ({@link PartitionGroups#allActive()}, updated every 250 ms by the node) and a
 *       linearizable {@code keel.counter.get} of {@code samples} random keys answers exactly the
 *       number of acknowledged adds.
 * </ul>
 *
 * <p>After each run (outside the timings) every key is read back and compared with what was
 * acknowledged. At the end, the log is also replayed alone (no node, {@link WriteAheadLog#open}
 * with {@link RaftLogReplay}) to count the Raft entries it holds.
 *
 * <p>Arguments, {@code --name value} or {@code name=value}: {@code entries} (1000000),
 * {@code partitions} (512), {@code in-flight} (256), {@code runs} (3), {@code keys} (100000),
 * {@code samples} (32), {@code verify-all} (true), {@code dir} (a new temporary directory; it is
 * deleted at the end either way), {@code timeout-s} (300, per wait).
 */
public final class RestartBenchmark {
  private static final Pattern REPLAYED =
      Pattern.compile("replayed in (\\d+) ms: LSN (-?\\d+)\\.\\.(-?\\d+)");

  private final int entries;
  private final int partitions;
  private final int inFlight;
  private final int runs;
  private final int keys;
  private final int samples;
  private final boolean verifyAll;
  private final long timeoutS;
  private final Path dir;
  private final ReplayProbe probe = new ReplayProbe();
  private final AtomicLongArray acked;
  private final boolean[] uncertain;

  private RestartBenchmark(Map<String, String> args) throws IOException {
    entries = Integer.parseInt(args.getOrDefault("entries", "1000000"));
    partitions = Integer.parseInt(args.getOrDefault("partitions", "512"));
    inFlight = Integer.parseInt(args.getOrDefault("in-flight", "256"));
    runs = Integer.parseInt(args.getOrDefault("runs", "3"));
    keys = Integer.parseInt(args.getOrDefault("keys", "100000"));
    samples = Math.min(keys, Integer.parseInt(args.getOrDefault("samples", "32")));
    verifyAll = Boolean.parseBoolean(args.getOrDefault("verify-all", "true"));
    timeoutS = Long.parseLong(args.getOrDefault("timeout-s", "300"));
    String d = args.get("dir");
    dir = d == null ? Files.createTempDirectory("keel-restart-bench-")
        : Files.createDirectories(Path.of(d).resolve("keel-restart-bench-" + System.nanoTime()));
    acked = new AtomicLongArray(keys);
    uncertain = new boolean[keys];
  }

  /** Runs the benchmark; prints progress and markdown tables. */
  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (a.startsWith("--")) {
        int eq = a.indexOf('=');
        if (eq > 0) {
          args.put(a.substring(2, eq), a.substring(eq + 1));
        } else {
          args.put(a.substring(2), argv[++i]);
        }
      } else {
        int eq = a.indexOf('=');
        args.put(a.substring(0, eq), a.substring(eq + 1));
      }
    }
    RestartBenchmark b = new RestartBenchmark(args);
    int code;
    try {
      code = b.run();
    } finally {
      InJvmCluster.deleteTree(b.dir);
    }
    System.exit(code);
  }

  /** One restart's figures, in ms (-1: not seen). */
  private record Run(long deployedMs, long replayedMs, long replayMs, long firstLsn, long lastLsn,
      long activeMs, long verifiedMs, long appliedSum, int restoredGroups, boolean statusReady,
      long closeMs, String verification) {
    long records() {
      return lastLsn < firstLsn || firstLsn < 0 ? -1 : lastLsn - firstLsn + 1;
    }

    double recordsPerS() {
      return replayMs <= 0 || records() < 0 ? Double.NaN : records() * 1000.0 / replayMs;
    }

    long doneMs() {
      return Math.max(activeMs, verifiedMs);
    }
  }

  private int run() throws Exception {
    probe.install();
    int clusterPort = FreePorts.next();
    KeelOptions options = new KeelOptions().setName("restart-bench")
        .setDataDir(dir.toString()).setHttpPort(-1).setClusterPort(clusterPort)
        .setClusterName("restart-bench-" + Long.toString(System.nanoTime(), 36))
        .setJoin(List.of("127.0.0.1:" + clusterPort)).setPartitions(partitions);
    System.out.printf(Locale.ROOT, "# Restart benchmark: %,d entries over %,d keys, %d partitions,"
        + " %d in flight, %d restart(s); data dir %s; %d cores, max heap %d MiB%n%n", entries,
        keys, partitions, inFlight, runs, dir, Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);

    // 1. First start (bootstraps the cluster and creates every partition's group).
    long t0 = System.nanoTime();
    Keel keel = Keel.start(options).await(timeoutS, TimeUnit.SECONDS);
    long deployed = ms(t0);
    awaitActive(keel, t0);
    System.out.printf(Locale.ROOT, "first start (empty log): deployed in %,d ms, all %d partitions"
        + " active in %,d ms%n", deployed, keel.groups().partitions().size(), ms(t0));

    // 2. Fill.
    fill(keel);
    JsonObject status = status(keel);
    System.out.printf(Locale.ROOT, "after fill: log %s%n", status.getJsonObject("recovery")
        .getJsonObject("log").encode());
    long t1 = System.nanoTime();
    keel.close().await(timeoutS, TimeUnit.SECONDS);
    long firstClose = ms(t1);
    System.out.printf(Locale.ROOT, "closed in %,d ms; write-ahead log on disk: %s%n%n",
        firstClose, walSize());

    // 3. Restarts.
    List<Run> results = new ArrayList<>();
    boolean ok = true;
    for (int i = 1; i <= runs; i++) {
      Run r = restart(options, i);
      results.add(r);
      ok &= r.verification().startsWith("ok");
      System.out.printf(Locale.ROOT, "restart %d: replayed %,d ms, ready %,d ms, active+verified"
          + " %,d ms; replay %,d ms for %,d records, %d groups restored; %s%n", i, r.replayedMs(),
          r.deployedMs(), r.doneMs(), r.replayMs(), r.records(), r.restoredGroups(),
          r.verification());
    }

    // 4. The log alone.
    String offline = offlineReplay();

    System.out.println();
    System.out.printf(Locale.ROOT, "## Restart of one data node, %,d entries written (%d"
        + " partitions)%n%n", entries, partitions);
    System.out.println("| run | log replayed | replay | WAL records replayed | replay"
        + " records/s | ready (Keel.start done) | all active + reads verified | applied entries"
        + " (sum) | close |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    for (int i = 0; i < results.size(); i++) {
      Run r = results.get(i);
      System.out.printf(Locale.ROOT, "| %d | %,d ms | %,d ms | %,d | %,.0f | %,d ms | %,d ms"
          + " (active %,d, reads %,d) | %,d | %,d ms |%n", i + 1, r.replayedMs(), r.replayMs(),
          r.records(), r.recordsPerS(), r.deployedMs(), r.doneMs(), r.activeMs(),
          r.verifiedMs(), r.appliedSum(), r.closeMs());
    }
    System.out.printf(Locale.ROOT, "| **median** | **%,d ms** | **%,d ms** | %,d | **%,.0f** |"
        + " **%,d ms** | **%,d ms** | | |%n",
        median(results, Run::replayedMs), median(results, Run::replayMs),
        median(results, Run::records),
        medianD(results.stream().mapToDouble(Run::recordsPerS).toArray()),
        median(results, Run::deployedMs), median(results, Run::doneMs));
    System.out.println();
    System.out.printf(Locale.ROOT, "write-ahead log: %s%n", walSize());
    System.out.printf(Locale.ROOT, "log alone (no node): %s%n", offline);
    System.out.printf(Locale.ROOT, "correctness: %s%n", ok ? "every check passed"
        : "FAILED (see the runs above)");
    return ok ? 0 : 1;
  }

  /** Sends {@code entries} adds, {@code inFlight} at a time; counts what was acknowledged. */
  private void fill(Keel keel) throws InterruptedException {
    EventBus bus = keel.vertx().eventBus();
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(60_000);
    Semaphore slots = new Semaphore(inFlight);
    AtomicLong failed = new AtomicLong();
    AtomicReference<String> firstFailure = new AtomicReference<>();
    String[] names = keyNames();
    long start = System.nanoTime();
    long lastReport = start;
    long lastCount = 0;
    for (int i = 0; i < entries; i++) {
      slots.acquire();
      int k = i % keys;
      bus.<JsonObject>request(Addresses.COUNTER_ADD, new JsonObject().put("key", names[k])
          .put("delta", 1), delivery).onComplete(ar -> {
            if (ar.succeeded()) {
              acked.incrementAndGet(k);
            } else {
              synchronized (uncertain) {
                uncertain[k] = true;
              }
              failed.incrementAndGet();
              firstFailure.compareAndSet(null, ar.cause().toString());
            }
            slots.release();
          });
      long now = System.nanoTime();
      if (now - lastReport >= TimeUnit.SECONDS.toNanos(10)) {
        System.out.printf(Locale.ROOT, "  fill: %,d sent, %,.0f adds/s over the last %.0f s%n",
            i + 1, (i + 1 - lastCount) * 1e9 / (now - lastReport), (now - lastReport) / 1e9);
        lastReport = now;
        lastCount = i + 1;
      }
    }
    slots.acquire(inFlight);
    slots.release(inFlight);
    double s = (System.nanoTime() - start) / 1e9;
    System.out.printf(Locale.ROOT, "fill: %,d adds in %.1f s = %,.0f adds/s (%d in flight), %,d"
        + " failed%s%n", entries, s, entries / s, inFlight, failed.get(),
        firstFailure.get() == null ? "" : " (first: " + firstFailure.get() + ")");
  }

  private Run restart(KeelOptions options, int run) throws Exception {
    System.gc();
    probe.reset();
    long t0 = System.nanoTime();
    Keel keel = Keel.start(options).await(timeoutS, TimeUnit.SECONDS);
    long deployed = ms(t0);
    long ready = probe.atNanos == 0 ? -1 : (probe.atNanos - t0) / 1_000_000;
    long replayMs = -1;
    long firstLsn = -1;
    long lastLsn = -1;
    String line = probe.message;
    Matcher m = line == null ? null : REPLAYED.matcher(line);
    if (m != null && m.find()) {
      replayMs = Long.parseLong(m.group(1));
      firstLsn = Long.parseLong(m.group(2));
      lastLsn = Long.parseLong(m.group(3));
    }
    // Reads of a few random keys, retried until they answer, in parallel with the phases.
    Random rnd = new Random(run);
    int[] sample = rnd.ints(0, keys).distinct().limit(samples).toArray();
    String[] names = keyNames();
    long active = -1;
    long verified = -1;
    String firstMismatch = null;
    long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutS);
    while ((active < 0 || verified < 0) && System.nanoTime() < deadline) {
      if (active < 0) {
        PartitionGroups g = keel.groups();
        if (g != null && g.allActive()) {
          active = ms(t0);
        }
      }
      if (verified < 0) {
        String mismatch = readAll(keel, names, sample, Math.min(sample.length, inFlight), 5_000);
        if (mismatch == null) {
          verified = ms(t0);
        } else if (!mismatch.startsWith("unanswered") && firstMismatch == null) {
          firstMismatch = mismatch;
          System.out.printf("  restart %d: WRONG VALUE at %,d ms: %s%n", run, ms(t0), mismatch);
        }
      }
      if (active < 0 || verified < 0) {
        Thread.sleep(5);
      }
    }
    JsonObject status = status(keel);
    JsonObject recovery = status.getJsonObject("recovery");
    long appliedSum = 0;
    JsonArray parts = status.getJsonArray("partitions", new JsonArray());
    for (int i = 0; i < parts.size(); i++) {
      Long a = parts.getJsonObject(i).getLong("applied");
      appliedSum += a == null ? 0 : a;
    }
    String verification;
    if (active < 0 || verified < 0) {
      verification = "FAILED: not active+verified within " + timeoutS + " s (active "
          + active + " ms, reads " + verified + " ms, phases " + recovery.getValue("phases")
          + ")";
    } else if (firstMismatch != null) {
      verification = "FAILED: a read answered a wrong value before settling: " + firstMismatch;
    } else {
      verification = "ok (" + sample.length + " sampled reads)";
    }
    if (verifyAll && verified >= 0) {
      long v0 = System.nanoTime();
      int[] all = new int[keys];
      Arrays.setAll(all, i -> i);
      String mismatch = readAll(keel, names, all, inFlight, 60_000);
      double s = (System.nanoTime() - v0) / 1e9;
      verification += mismatch == null ? String.format(Locale.ROOT,
          ", all %,d keys equal the acknowledged adds (read in %.1f s)", keys, s)
          : "; FAILED full check: " + mismatch;
      if (mismatch != null && verification.startsWith("ok")) {
        verification = "FAILED: " + verification;
      }
    }
    long c0 = System.nanoTime();
    keel.close().await(timeoutS, TimeUnit.SECONDS);
    long closeMs = ms(c0);
    return new Run(deployed, ready, replayMs, firstLsn, lastLsn, active, verified, appliedSum,
        recovery.getInteger("restoredGroups", -1), status.getBoolean("ready", false), closeMs,
        verification + (status.getBoolean("ready", false) ? "" : "; status not ready!"));
  }

  /**
   * Reads {@code which} keys ({@code parallel} at a time) and compares each with the acknowledged
   * adds. Returns null when all match, else a description of the first problem ("unanswered …"
   * when a read failed, which a caller may retry).
   */
  private String readAll(Keel keel, String[] names, int[] which, int parallel, long timeoutMs)
      throws InterruptedException {
    EventBus bus = keel.vertx().eventBus();
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(timeoutMs);
    Semaphore slots = new Semaphore(parallel);
    AtomicReference<String> wrong = new AtomicReference<>();
    AtomicReference<String> unanswered = new AtomicReference<>();
    AtomicLong wrongCount = new AtomicLong();
    AtomicLong unansweredCount = new AtomicLong();
    for (int k : which) {
      slots.acquire();
      Future<Message<JsonObject>> f = bus.request(Addresses.COUNTER_GET,
          new JsonObject().put("key", names[k]), delivery);
      f.onComplete(ar -> {
        if (ar.failed()) {
          unansweredCount.incrementAndGet();
          unanswered.compareAndSet(null, names[k] + ": " + ar.cause());
        } else {
          long value = ar.result().body().getLong("value", -1L);
          long expected = acked.get(k);
          boolean maybe;
          synchronized (uncertain) {
            maybe = uncertain[k];
          }
          if (maybe ? value < expected : value != expected) {
            wrongCount.incrementAndGet();
            wrong.compareAndSet(null, names[k] + " = " + value + ", acknowledged "
                + expected + (maybe ? "+ (some adds failed)" : ""));
          }
        }
        slots.release();
      });
    }
    slots.acquire(parallel);
    if (wrong.get() != null) {
      return wrongCount.get() + " wrong value(s), first: " + wrong.get();
    }
    if (unanswered.get() != null) {
      return "unanswered: " + unansweredCount.get() + " read(s), first: " + unanswered.get();
    }
    return null;
  }

  private void awaitActive(Keel keel, long t0) throws InterruptedException {
    long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutS);
    while (System.nanoTime() < deadline) {
      PartitionGroups g = keel.groups();
      if (g != null && g.allActive() && g.partitions().size() >= partitions) {
        return;
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("the node's partitions were not all active within "
        + timeoutS + " s");
  }

  private JsonObject status(Keel keel) throws Exception {
    return keel.vertx().eventBus().<JsonObject>request(Addresses.status(keel.nodeName()),
        new JsonObject(), new DeliveryOptions().setSendTimeout(30_000))
        .await(60, TimeUnit.SECONDS).body();
  }

  /** Replays the log without a node: the scan and the group images, nothing else. */
  private String offlineReplay() throws IOException {
    DefaultRaftModelFactory factory = new DefaultRaftModelFactory();
    RaftLogReplay replay = new RaftLogReplay(RaftCodec.forKeel(factory), factory);
    long t0 = System.nanoTime();
    WriteAheadLog wal = WriteAheadLog.open(dir.resolve(RecoveryVerticle.LOG_DIR),
        new WalOptions(), replay);
    long ms = ms(t0);
    WriteAheadLog.Recovery r = wal.recovery();
    wal.close();
    long retained = 0;
    long lastIndexSum = 0;
    int snapshots = 0;
    for (GroupImage g : replay.images().values()) {
      retained += g.entries().size();
      lastIndexSum += g.lastIndex();
      snapshots += g.snapshot() == null ? 0 : 1;
    }
    long records = r.lastLsn() - r.firstLsn() + 1;
    return String.format(Locale.ROOT, "%,d WAL records (LSN %d..%d, %d segment(s)) replayed in"
        + " %,d ms = %,.0f records/s; %d groups hold %,d Raft entries after their snapshots"
        + " (%d groups with a snapshot), last indexes summing to %,d = %,.0f entries/s",
        records, r.firstLsn(), r.lastLsn(), r.segments(), ms, records * 1000.0 / Math.max(1, ms),
        replay.images().size(), retained, snapshots, lastIndexSum,
        lastIndexSum * 1000.0 / Math.max(1, ms));
  }

  private String walSize() throws IOException {
    Path wal = dir.resolve(RecoveryVerticle.LOG_DIR);
    long bytes = 0;
    int files = 0;
    try (Stream<Path> s = Files.list(wal)) {
      for (Path p : s.toList()) {
        if (Files.isRegularFile(p)) {
          bytes += Files.size(p);
          files++;
        }
      }
    }
    return String.format(Locale.ROOT, "%.1f MB in %d file(s) (apparent size, preallocated"
        + " segments included)", bytes / 1e6, files);
  }

  private String[] keyNames() {
    String[] names = new String[keys];
    Arrays.setAll(names, i -> "k" + i);
    return names;
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private static long median(List<Run> runs, java.util.function.ToLongFunction<Run> f) {
    long[] v = runs.stream().mapToLong(f).sorted().toArray();
    return v.length == 0 ? -1 : v[v.length / 2];
  }

  private static double medianD(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length == 0 ? Double.NaN : s[s.length / 2];
  }

  /** Catches RecoveryVerticle's "replayed in N ms" line: when it was logged, and its text. */
  private static final class ReplayProbe extends AppenderBase<ILoggingEvent> {
    volatile long atNanos;
    volatile String message;

    void install() {
      LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
      ch.qos.logback.classic.Logger logger = ctx.getLogger(RecoveryVerticle.class);
      if (!logger.isInfoEnabled()) {
        logger.setLevel(Level.INFO);
      }
      setContext(ctx);
      setName("restart-bench-probe");
      start();
      logger.addAppender(this);
    }

    void reset() {
      atNanos = 0;
      message = null;
    }

    @Override
    protected void append(ILoggingEvent e) {
      String text = e.getFormattedMessage();
      if (text != null && text.contains("replayed in")) {
        atNanos = System.nanoTime();
        message = text;
      }
    }
  }
}
