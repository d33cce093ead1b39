package io.keel.bench;

import static io.keel.bench.Table.fmt;

import io.keel.Keel;
import io.keel.bus.Addresses;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.keel.routing.PartitionTable;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Keel's fenced locks against Vert.x's own clustered lock ({@code SharedData.getLockWithTimeout}
 * on vertx-hazelcast) on the same real cluster, from the same client (a {@code main}, not JMH:
 * the system under test is three other processes).
 *
 * <p>Three data nodes run as child JVMs from {@code target/keel.jar} ({@link ProcessCluster}:
 * 127.0.0.1, free ports, temporary data directories, default durability: {@code wal.fsyncPolicy
 * group}, 512 partitions, 3 replicas). Once every replica of every partition is active, three
 * client-role nodes ({@link BenchClient}) join in this JVM. Keel's cycle is an acquire then a
 * release, each answered once the command is committed by a majority, on disk, made in two ways:
 * through the Java API of the client node ({@code keel}: {@code locks().acquire},
 * {@code lock.release()}), and as {@code keel.lock.acquire} and {@code keel.lock.release} over
 * the clustered event bus to whichever node's consumer it picks ({@code keel-bus}). Vert.x's is
 * {@code getLockWithTimeout} then {@code release()} (not awaitable: Vert.x hands it to a thread
 * pool). Every client is a Hazelcast member and owns a share of Hazelcast's partitions, so the
 * Vert.x lock names are chosen among those whose partition a data node owns: no Vert.x lock is
 * served inside this JVM. Keel's clients own no lock state at all.
 *
 * <p>Each run measures, with {@code warmup-s} unrecorded and {@code seconds} recorded per case
 * (closed loops, a cycle counts when it ends in the window; HdrHistogram):
 * <ul>
 *   <li>(a) one loop, uncontended; (b) 64 loops; (c) 1,024 loops; each loop on its own names
 *       (a ring of {@link #NAMES_PER_LOOP}, so that a name is reused only after the loop's other
 *       names: Vert.x's release is asynchronous and an IMap lock is re-entrant per thread);
 *   <li>(d) one name, one loop on each of the three client nodes (three Hazelcast members):
 *       grants/s and hand-overs/s (grants to another member than the one before, in fencing
 *       token order for Keel, in grant order for Vert.x), and overlaps seen;
 *   <li>(e) the floor: a request/reply to the data nodes' {@code keel.ping} shard addresses,
 *       one at a time, and the disk's fsync: 4 KiB {@code FileChannel.write} +
 *       {@code force(false)} in a preallocated temporary file, one at a time;
 *   <li>(f) {@link LockFailover}: time from {@code kill -9} of the holder's JVM to the queued
 *       waiter's grant, for a client JVM holding both locks, and (Keel only) for a lock made for
 *       a data node that is killed, a follower and then the leader of the lock's partition;
 *   <li>(g) {@link LockGrowth}, once, before the runs: each data node's heap with
 *       {@code growth-locks} locks held across the cluster, acquired and then released 1,024 at
 *       a time;
 *   <li>(ref) for reference, {@code keel.counter.add} (one replicated command, as an acquire
 *       or a release is), 1 and 64 in flight.
 * </ul>
 *
 * <p>Arguments, {@code --name value} or {@code name=value}: {@code seconds} (5),
 * {@code warmup-s} (2), {@code jit-warmup-s} (5), {@code runs} (3), {@code contexts} (2, event
 * loops of the main client the loops spread over), {@code lease-ms} (2000, for (f)),
 * {@code settle-s} (300), {@code failover} (true), {@code cases} (a,b,c,d,e,f,g,ref: which
 * to run), {@code systems} (keel,keel-bus,vertx: which to compare in a to d),
 * {@code growth-locks} (100000), {@code diagnose-lease-ms} (15000; 0: skip): after the runs,
 * both data-node kills once more with this lease, to tell the node's departure from the
 * lease's end. Run from the project root after {@code mvn package}; the nodes run
 * {@code target/keel.jar} with {@code -Dkeel.child.jvm.args} (default {@code -Xmx1g}; Keel
 * sets the fork-join parallelism itself). This JVM needs Hazelcast's {@code --add-opens}
 * flags (see the pom's {@code hz.jvm.args}) and
 * {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=2}.
 */
public final class LockBenchmark {
  static final int NAMES_PER_LOOP = 8;
  /** Keel through its Java API, Keel over the clustered event bus, Vert.x's lock. */
  static final List<String> SYSTEMS = List.of("keel", "keel-bus", "vertx");
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  private static final long CONTENDED_WAIT_MS = 30_000;

  private final int seconds;
  private final int warmupS;
  private final int jitWarmupS;
  private final int runs;
  private final int contexts;
  private final String[] eventLoops;
  private final long leaseMs;
  private final long settleS;
  private final boolean failover;
  private final Set<String> cases;
  private final List<String> systems;
  private final long diagnoseLeaseMs;
  private final int growthLocks;
  private LockGrowth.Result growth;
  private final List<Sample> samples = new ArrayList<>();
  private final List<LockFailover.Result> kills = new ArrayList<>();
  private final List<BenchClient> clients = new ArrayList<>();
  private final Set<UUID> local = new HashSet<>();

  /** One case, one system, one run. */
  record Sample(String kase, String system, int run, double opsPerS, long p50Ns, long p99Ns,
      long acquireP50Ns, long acquireP99Ns, long failed, String failures, double handOversPerS,
      long overlaps, double load) {}

  private LockBenchmark(BenchArgs args) {
    seconds = args.integer("seconds", 5);
    warmupS = args.integer("warmup-s", 2);
    jitWarmupS = args.integer("jit-warmup-s", 5);
    runs = args.integer("runs", 3);
    contexts = args.integer("contexts", 2);
    eventLoops = args.eventLoopArgs();
    leaseMs = args.longValue("lease-ms", 2000);
    settleS = args.longValue("settle-s", 300);
    cases = args.words("cases", "a,b,c,d,e,f,g,ref");
    systems = List.copyOf(args.words("systems", String.join(",", SYSTEMS)));
    growthLocks = args.integer("growth-locks", 100_000);
    diagnoseLeaseMs = args.longValue("diagnose-lease-ms", 15000);
    failover = args.bool("failover", true) && cases.contains("f");
    args.requireAllUsed();
    BenchArgs.require(seconds >= 1 && warmupS >= 0 && jitWarmupS >= 0 && runs >= 1
        && contexts >= 1 && leaseMs >= 1 && growthLocks >= 1
        && SYSTEMS.containsAll(systems) && !systems.isEmpty(), "bad arguments: " + args);
  }

  /** Runs the benchmark; prints progress, each run's figures and the markdown tables. */
  public static void main(String[] argv) throws Exception {
    BenchArgs.prepareJvm("-Xmx1g");
    int code = new LockBenchmark(BenchArgs.parse(argv)).run();
    System.exit(code);
  }

  private int run() throws Exception {
    Path logDir = NodeProcess.freshLogDir("LockBenchmark");
    System.out.printf(Locale.ROOT, "# Lock benchmark: 3 node JVMs + this JVM (3 client nodes),"
        + " %d s measured after %d s warm-up per case, %d run(s); %d cores, load average %.1f"
        + " at start; child JVM args '%s'; node args %s; logs %s%n%n", seconds, warmupS, runs,
        Runtime.getRuntime().availableProcessors(), ClosedLoops.loadAverage(),
        System.getProperty("keel.child.jvm.args"), String.join(" ", eventLoops), logDir);
    long t0 = System.nanoTime();
    try (ProcessCluster cluster = new ProcessCluster(logDir, NODES.size(), eventLoops)) {
      cluster.startAll(NODES.toArray(new String[0]));
      cluster.awaitAgreement(NODES, Duration.ofSeconds(settleS));
      Settled.await(cluster, NODES, settleS, false);
      System.out.printf(Locale.ROOT, "3 nodes ready, every replica active in %,d ms%n",
          ClosedLoops.ms(t0));
      try {
        for (int i = 1; i <= 3; i++) {
          BenchClient c = BenchClient.join(cluster.clusterName(), cluster.joinList(),
              "lock-bench-c" + i);
          clients.add(c);
          local.add(c.memberId());
        }
        System.out.printf(Locale.ROOT, "3 clients joined in %,d ms%n", ClosedLoops.ms(t0));
        System.out.printf("idle, over 5 s: %s (this JVM: 3 clients)%n%n", ClosedLoops.idleCpu(
            NODES.stream().mapToLong(n -> cluster.node(n).pid()).toArray(), 5_000));
        measure(cluster, logDir);
      } finally {
        for (BenchClient c : clients) {
          c.close();
        }
      }
    }
    print();
    return samples.stream().allMatch(s -> s.opsPerS() > 0) ? 0 : 1;
  }

  private void measure(ProcessCluster cluster, Path logDir) throws Exception {
    System.out.printf(Locale.ROOT, "JIT warm-up, not recorded: %d s of (b) each%n", jitWarmupS);
    for (String system : systems) {
      caseB(0, system, jitWarmupS, 0);
    }
    if (cases.contains("g")) {
      System.out.printf(Locale.ROOT, "%n## (g) %,d locks held%n", growthLocks);
      growth = new LockGrowth(clients.get(0).vertx(), clients.get(0).name(),
          NODES.stream().mapToLong(n -> cluster.node(n).pid()).toArray(), growthLocks, 1024)
          .run();
    }
    LockFailover kill = new LockFailover(cluster, clients.get(0), local, logDir, leaseMs,
        settleS);
    for (int run = 1; run <= runs; run++) {
      System.out.printf(Locale.ROOT, "%n## run %d (load average %.1f)%n", run,
          ClosedLoops.loadAverage());
      if (cases.contains("e")) {
        record(floor(run));
        record(fsync(run));
      }
      if (cases.contains("ref")) {
        record(counterAdds(run, 1));
        record(counterAdds(run, 64));
      }
      List<String> order = new ArrayList<>(systems);
      if (run % 2 == 0) {
        Collections.reverse(order);
      }
      for (String system : cases.contains("a") ? order : List.<String>of()) {
        record(caseA(run, system));
      }
      for (String system : cases.contains("b") ? order : List.<String>of()) {
        record(caseB(run, system, warmupS, seconds));
      }
      for (String system : cases.contains("c") ? order : List.<String>of()) {
        record(caseC(run, system));
      }
      for (String system : cases.contains("d") ? order : List.<String>of()) {
        record(caseD(run, system));
      }
      if (failover) {
        failover(kill, run);
      }
    }
    if (failover && diagnoseLeaseMs > 0) {
      // Which mechanism ends a killed node's lease: with a lease this long, only its departure.
      System.out.printf(Locale.ROOT, "%n## diagnosis: data node kills with a %,d ms lease%n",
          diagnoseLeaseMs);
      for (boolean leader : List.of(false, true)) {
        LockFailover.Result r = kill.dataNode(runs + 1, leader, diagnoseLeaseMs);
        kills.add(r);
        System.out.printf(Locale.ROOT, "(f, diagnosis) %s, %,d ms lease: Keel %,.0f ms; %s%n",
            r.scenario(), r.leaseMs(), r.keelMs(), r.note());
      }
    }
  }

  private void failover(LockFailover kill, int run) throws Exception {
    for (int scenario = 0; scenario < 3; scenario++) {
      LockFailover.Result r;
      try {
        r = scenario == 0 ? kill.holderJvm(run) : kill.dataNode(run, scenario == 2, leaseMs);
      } catch (Exception e) {
        // One failed kill must not end the benchmark: report it, bring the nodes back.
        r = new LockFailover.Result(scenario == 0 ? "holder client JVM killed"
            : "data node killed (" + (scenario == 2 ? "leader" : "follower")
                + " of the lock's partition)", leaseMs, Double.NaN, Double.NaN, "FAILED: " + e);
        kill.restartDead();
      }
      kills.add(r);
      System.out.printf(Locale.ROOT, "run %d (f) %s: Keel %,.0f ms%s; %s%n", run, r.scenario(),
          r.keelMs(), Double.isNaN(r.vertxMs()) ? "" : String.format(Locale.ROOT,
              ", Vert.x %,.0f ms", r.vertxMs()), r.note());
    }
  }

  private void record(Sample s) {
    samples.add(s);
    boolean lock = SYSTEMS.contains(s.system());
    System.out.printf(Locale.ROOT, "run %d %s %s: %,.0f/s, p50 %s, p99 %s%s%s%s; load %.1f%n",
        s.run(), s.kase(), s.system(), s.opsPerS(), fmt(s.p50Ns()), fmt(s.p99Ns()),
        lock ? " (acquire p50 " + fmt(s.acquireP50Ns()) + ", p99 " + fmt(s.acquireP99Ns()) + ")"
            : "",
        Double.isNaN(s.handOversPerS()) ? "" : String.format(Locale.ROOT,
            ", hand-overs %,.0f/s, overlaps %d", s.handOversPerS(), s.overlaps()),
        s.failed() == 0 ? "" : ", FAILED " + s.failed() + " (" + s.failures() + ")", s.load());
  }

  // ---- the cases

  private Sample caseA(int run, String system) throws Exception {
    return lockCase("a", run, system, 1, warmupS, seconds);
  }

  private Sample caseB(int run, String system, int warmup, int measured) throws Exception {
    return lockCase("b", run, system, 64, warmup, measured);
  }

  private Sample caseC(int run, String system) throws Exception {
    return lockCase("c", run, system, 1024, warmupS, seconds);
  }

  /** {@code loops} loops on the main client, each on its own ring of names. */
  private Sample lockCase(String kase, int run, String system, int loops, int warmup,
      int measured) throws Exception {
    BenchClient c = clients.get(0);
    String[][] names = names(kase + "-r" + run + "-" + System.nanoTime(), loops,
        system.equals("vertx"));
    LockCycles.Grants none = new LockCycles.Grants(false);
    ClosedLoops.Op cycle = cycle(system, c, names, 0, none, 0);
    return drive(kase, system, run, List.of(c.vertx()), List.of(cycle), loops,
        Math.min(loops, contexts), warmup, measured, null);
  }

  /** {@code system}'s cycle on client {@code c}, as member {@code member} of {@code grants}. */
  private static ClosedLoops.Op cycle(String system, BenchClient c, String[][] names,
      long waitMs, LockCycles.Grants grants, int member) {
    return switch (system) {
      case "keel" -> LockCycles.keelApi(c.keel().locks(), c.name(), names, waitMs, grants,
          member);
      case "keel-bus" -> LockCycles.keelBus(c.vertx(), c.name(), names, waitMs, grants, member);
      default -> LockCycles.vertx(c.vertx(), names, waitMs == 0 ? 10_000 : waitMs, grants,
          member);
    };
  }

  /** One name, one loop on each of the three clients (three Hazelcast members). */
  private Sample caseD(int run, String system) throws Exception {
    String name = "d-r" + run + "-" + System.nanoTime();
    boolean vertx = system.equals("vertx");
    if (vertx) {
      for (int i = 0; !clients.get(0).remote(name, local); i++) {
        name = "d-r" + run + "-" + System.nanoTime() + "-" + i;
      }
    }
    String[][] names = {{name}, {name}, {name}};
    LockCycles.Grants grants = new LockCycles.Grants(true);
    List<Vertx> vertxes = new ArrayList<>();
    List<ClosedLoops.Op> cycles = new ArrayList<>();
    for (int i = 0; i < clients.size(); i++) {
      BenchClient c = clients.get(i);
      vertxes.add(c.vertx());
      cycles.add(cycle(system, c, names, CONTENDED_WAIT_MS, grants, i));
    }
    return drive("d", system, run, vertxes, cycles, 1, 1, warmupS, seconds, grants);
  }

  private Sample floor(int run) throws Exception {
    BenchClient c = clients.get(0);
    PartitionTable t = c.keel().routing().table();
    List<String> addresses = new ArrayList<>();
    List<List<String>> keys = new ArrayList<>();
    for (String node : NODES) {
      addresses.add(Addresses.shard(Keel.PING_SERVICE, node));
      List<String> mine = new ArrayList<>();
      for (int i = 0; mine.size() < 64; i++) {
        if (node.equals(t.primaryOf("floor-" + i))) {
          mine.add("floor-" + i);
        }
      }
      keys.add(mine);
    }
    ClosedLoops.Op ping = LockCycles.ping(c.vertx(), addresses, keys, t.epoch());
    return drive("e", "floor rtt", run, List.of(c.vertx()), List.of(ping), 1, 1, warmupS,
        seconds, null);
  }

  /**
   * For reference: {@code keel.counter.add} (one replicated command, as one lock acquire or
   * release is), {@code loops} in flight over 10,000 keys.
   */
  private Sample counterAdds(int run, int loops) throws Exception {
    BenchClient c = clients.get(0);
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(30_000);
    String prefix = "ref-r" + run + "-" + System.nanoTime();
    ClosedLoops.Op add = (loop, n, rnd) -> c.vertx().eventBus().request(Addresses.COUNTER_ADD,
        new JsonObject().put("key", "k" + ((loop * 7919 + n) % 10_000))
            .put("delta", 1).put("requestId", prefix + "-" + loop + "-" + n), delivery);
    return drive("ref" + loops, "counter add", run, List.of(c.vertx()), List.of(add), loops,
        Math.min(loops, contexts), warmupS, seconds, null);
  }

  /** 4 KiB writes, each followed by {@code force(false)}, over a preallocated 16 MiB file. */
  private Sample fsync(int run) throws Exception {
    Path f = Files.createTempFile("keel-lockbench-fsync-", ".bin");
    int block = 4096;
    long size = 16L << 20;
    Histogram h = new Histogram(ClosedLoops.LATENCY_NS_MAX, 3);
    long ops = 0;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
      for (long at = 0; at < size; at += zeros.capacity()) {
        zeros.clear();
        ch.write(zeros, at);
      }
      ch.force(true);
      ByteBuffer buf = ByteBuffer.allocate(block);
      long from = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupS);
      long end = from + TimeUnit.SECONDS.toNanos(seconds);
      long pos = 0;
      for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
        buf.clear();
        buf.putLong(0, now);
        ch.write(buf, pos);
        ch.force(false);
        long t1 = System.nanoTime();
        pos = (pos + block) % size;
        if (now >= from) {
          h.recordValue(t1 - now);
          ops++;
        }
      }
    } finally {
      Files.deleteIfExists(f);
    }
    return new Sample("e", "fsync", run, ops / (double) seconds, h.getValueAtPercentile(50),
        h.getValueAtPercentile(99), 0, 0, 0, "", Double.NaN, 0, ClosedLoops.loadAverage());
  }

  /**
   * Runs {@code cycles.get(i)} on {@code vertxes.get(i)}: {@code loopsEach} loops per Vert.x,
   * spread over {@code instances} contexts, for {@code warmup + measured} seconds.
   */
  private Sample drive(String kase, String system, int run, List<Vertx> vertxes,
      List<ClosedLoops.Op> cycles, int loopsEach, int instances, int warmup, int measured,
      LockCycles.Grants grants) throws Exception {
    long from = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
    ClosedLoops.Sample s = ClosedLoops.drive(kase, system, run, vertxes, cycles,
        new ClosedLoops.Load(loopsEach, instances, warmup, measured, run,
            CONTENDED_WAIT_MS / 1000 + 60, new long[0]));
    double handOvers = Double.NaN;
    long overlaps = 0;
    if (grants != null) {
      long end = from + TimeUnit.SECONDS.toNanos(measured);
      handOvers = grants.handOvers(from, end)[1] / (double) Math.max(1, measured);
      overlaps = grants.overlaps();
    }
    return new Sample(kase, system, run, s.opsPerS(), s.p50Ns(), s.p99Ns(), s.markP50Ns(),
        s.markP99Ns(), s.failed(), s.failures().isEmpty() ? "" : s.failures() + " first: "
            + s.firstFailure(), handOvers, overlaps, s.loadAverage());
  }

  /**
   * {@code loops} rings of {@link #NAMES_PER_LOOP} names; for Vert.x only names whose Hazelcast
   * partition a data node owns.
   */
  private String[][] names(String prefix, int loops, boolean vertx) {
    String[][] names = new String[loops][NAMES_PER_LOOP];
    int n = 0;
    for (int l = 0; l < loops; l++) {
      for (int j = 0; j < NAMES_PER_LOOP; j++) {
        String name;
        do {
          name = prefix + "-" + n++;
        } while (vertx && !clients.get(0).remote(name, local));
        names[l][j] = name;
      }
    }
    return names;
  }

  // ---- the report

  private void print() {
    LockReport report = new LockReport(samples, kills, seconds, runs, leaseMs);
    report.print();
    if (growth != null) {
      LockGrowth.Result g = growth;
      new Table(String.format(Locale.ROOT, "Keel: %,d locks held across the cluster (3 replicas"
          + " on 3 nodes: each node holds every lock), acquired and released 1,024 at a time",
          g.count()), "measure", "value")
          .row("acquires/s (lost)", String.format(Locale.ROOT, "%,.0f (%d)", g.acquired().perS(),
              g.acquired().lost()))
          .row("releases/s (lost)", String.format(Locale.ROOT, "%,.0f (%d)", g.released().perS(),
              g.released().lost()))
          .row("heap after GC per node: before / held / released", Table.mibs(g.before())
              + " / " + Table.mibs(g.held()) + " / " + Table.mibs(g.after()))
          .row("heap per held lock, per node", String.format(Locale.ROOT, "%,.0f B",
              g.perLockBytes()))
          .note("Heap: used heap after `jcmd <pid> GC.run`, read from `GC.heap_info`.")
          .print();
    }
  }
}
