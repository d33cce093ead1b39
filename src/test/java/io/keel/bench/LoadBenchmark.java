package io.keel.bench;

import static io.keel.bench.Table.fmt;
import static io.keel.bench.Table.median;

import io.keel.Keel;
import io.keel.bench.ClosedLoops.Sample;
import io.keel.bus.Addresses;
import io.keel.harness.InProcessClient;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.keel.routing.PartitionTable;
import io.keel.routing.PlacementConfig;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * End-to-end load on a real 3-node cluster: replicated {@code keel.counter.add} requests from a
 * client node, against the floor of a plain event-bus request/reply in the same run (a
 * {@code main}, not JMH: the system under test is three other processes).
 *
 * <p>Three data nodes run as child JVMs from {@code target/keel.jar} ({@link ProcessCluster}:
 * 127.0.0.1, TCP-IP join, free ports, temporary data directories; every process is killed and
 * the data deleted at the end, the logs kept in {@code target/node-logs/LoadBenchmark}). Once
 * every replica of every partition is {@code active} with three members on all three nodes (read
 * from {@code GET /status}), an {@link InProcessClient} (a clustered Vert.x node of role
 * {@code client}, in this JVM) joins and runs, {@code runs} times, for each {@code in-flight}
 * count, {@code warmup-s} of warm-up and then {@code seconds} measured of:
 *
 * <ul>
 *   <li><b>floor</b>: a request/reply to one data node, {@code n1}: its {@code keel.ping} shard
 *       address ({@code keel.shard.keel.ping.n1}) for keys whose primary is {@code n1}, which
 *       answers {@code {node, key, partition, epoch}} without any other work;
 *   <li><b>counter add</b>: {@code keel.counter.add {key, delta: 1, requestId, timeoutMs}} over
 *       {@code keys} keys (seeded random choice) covering the partitions. The request goes to
 *       any node answering that address (the client's own included), which routes it to the
 *       leader of the key's partition group; the leader answers once a majority of the three
 *       replicas has the add in its write-ahead log on disk.
 * </ul>
 *
 * <p>The load is closed-loop ({@link ClosedLoops}): {@code in-flight} loops on the client's
 * event loops, each sending its next request when the last one is answered; failures are
 * counted by their code, never dropped. The table shows the median over the runs.
 *
 * <p>Before the first run, each case runs {@code jit-warmup-s} at the largest in-flight count,
 * unrecorded, so that run 1 does not measure the JIT of four JVMs.
 *
 * <p>Also printed: the CPU the three idle nodes use, and each case's CPU time per request, over
 * the whole case, warm-up included, of the three node processes together (their idle use
 * included) and of this client JVM. On a small machine the four JVMs share the cores.
 *
 * <p>Arguments, {@code --name value} or {@code name=value}: {@code seconds} (5), {@code
 * warmup-s} (2), {@code jit-warmup-s} (10), {@code runs} (3), {@code in-flight} (1,64),
 * {@code partitions} (512), {@code keys} (10000), {@code timeout-ms} (5000, per request),
 * {@code client-contexts} (2, event loops the loops are spread over), {@code settle-s} (180,
 * per wait), {@code seed} (1). Run from the project root after {@code mvn package}: the nodes
 * run {@code target/keel.jar} (or {@code -Dkeel.jar=...}), with the JVM flags of {@code
 * -Dkeel.child.jvm.args=...} if given.
 */
public final class LoadBenchmark {
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  private static final String FLOOR_NODE = "n1";
  private static final String FLOOR = "event-bus request/reply to n1 (floor)";
  private static final String ADD = "`keel.counter.add` (replicated)";

  private final BenchArgs.Common common;
  private final String[] eventLoops;
  private final AtomicLong requestIds = new AtomicLong();
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private long[] nodePids = new long[0];

  private LoadBenchmark(BenchArgs args) {
    common = args.common(10, "client-contexts", 180);
    eventLoops = args.eventLoopArgs();
    args.requireAllUsed();
  }

  /** Runs the benchmark; prints progress, each run's figures and the markdown table. */
  public static void main(String[] argv) throws Exception {
    BenchArgs.prepareJvm(null);
    int code = new LoadBenchmark(BenchArgs.parse(argv)).run();
    System.exit(code);
  }

  private int run() throws Exception {
    Path logDir = NodeProcess.freshLogDir("LoadBenchmark");
    System.out.printf(Locale.ROOT, "# Load benchmark: 3 node JVMs + this client JVM, %d"
        + " partitions, %,d keys, in flight %s, %d s measured after %d s warm-up, %d run(s);"
        + " %d cores, load average %.1f at start; child JVM args '%s'; node args %s;"
        + " node logs %s%n%n",
        common.partitions(), common.keys(), Arrays.toString(common.inFlights()),
        common.seconds(), common.warmupS(), common.runs(),
        Runtime.getRuntime().availableProcessors(), ClosedLoops.loadAverage(),
        System.getProperty("keel.child.jvm.args", ""), String.join(" ", eventLoops), logDir);
    long t0 = System.nanoTime();
    try (ProcessCluster cluster = new ProcessCluster(logDir, NODES.size(), "--partitions",
        Integer.toString(common.partitions()), eventLoops[0], eventLoops[1])) {
      cluster.startAll(NODES.toArray(new String[0]));
      System.out.printf(Locale.ROOT, "nodes ready in %,d ms%n", ClosedLoops.ms(t0));
      cluster.awaitAgreement(NODES, Duration.ofSeconds(common.settleS()));
      Settled.await(cluster, NODES, common.settleS(), false);
      System.out.printf(Locale.ROOT, "every replica active with 3 members in %,d ms%n",
          ClosedLoops.ms(t0));
      try {
        Settled.await(cluster, NODES, Math.min(common.settleS(), 30), true);
        System.out.printf(Locale.ROOT, "every group led by its table primary in %,d ms%n",
            ClosedLoops.ms(t0));
      } catch (IllegalStateException e) {
        System.out.printf("NOTE: not every group is led by its table primary (%s); going on%n",
            e.getMessage());
      }
      nodePids = NODES.stream().mapToLong(n -> cluster.node(n).pid()).toArray();
      try (InProcessClient client = InProcessClient.join(cluster, "load-client")) {
        System.out.printf(Locale.ROOT, "client joined in %,d ms%n", ClosedLoops.ms(t0));
        System.out.printf("idle, over 5 s: %s%n%n", ClosedLoops.idleCpu(nodePids, 5_000));
        return measure(cluster, client);
      }
    }
  }

  private int measure(ProcessCluster cluster, InProcessClient client) throws Exception {
    Vertx vertx = client.keel().vertx();
    String[] names = new String[common.keys()];
    Arrays.setAll(names, i -> "load:" + i);
    JsonObject status = cluster.node(FLOOR_NODE).status();
    long epoch = status.getLong("epoch");
    String[] floorKeys = floorKeys(names, status, client.table());
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(common.timeoutMs() + 5_000);
    String floorAddress = Addresses.shard(Keel.PING_SERVICE, FLOOR_NODE);
    ClosedLoops.Op floor = (loop, n, rnd) -> vertx.eventBus().request(floorAddress,
        new JsonObject().put("key", floorKeys[rnd.nextInt(floorKeys.length)])
            .put("epoch", epoch).put("body", new JsonObject()), delivery);
    ClosedLoops.Op add = (loop, n, rnd) -> vertx.eventBus().request(Addresses.COUNTER_ADD,
        new JsonObject().put("key", names[rnd.nextInt(names.length)]).put("delta", 1)
            .put("requestId", "lb-" + runId + "-" + requestIds.incrementAndGet())
            .put("timeoutMs", common.timeoutMs()), delivery);

    int maxInFlight = common.maxInFlight();
    System.out.printf(Locale.ROOT, "JIT warm-up, not recorded: %d s of each at %d in flight%n",
        common.jitWarmupS(), maxInFlight);
    ClosedLoops.drive(FLOOR, "", 0, vertx, floor, load(maxInFlight, common.jitWarmupS(), 0, 0));
    ClosedLoops.drive(ADD, "", 0, vertx, add, load(maxInFlight, common.jitWarmupS(), 0, 1));
    List<Sample> samples = new ArrayList<>();
    for (int run = 1; run <= common.runs(); run++) {
      for (int inFlight : common.inFlights()) {
        for (String name : List.of(FLOOR, ADD)) {
          Sample s = ClosedLoops.drive(name, "", run, vertx, name.equals(FLOOR) ? floor : add,
              load(inFlight, common.warmupS(), common.seconds(), common.seed() * 1_000 + run));
          samples.add(s);
          System.out.printf(Locale.ROOT, "run %d: %s, %d in flight: %,.0f ops/s, p50 %s, p99"
              + " %s, p99.9 %s, max %s; CPU per request: nodes %.0f µs, client %.0f µs;"
              + " load average %.1f; failures %s%n", run, name, inFlight, s.opsPerS(),
              fmt(s.p50Ns()), fmt(s.p99Ns()), fmt(s.p999Ns()), fmt(s.maxNs()),
              s.nodeCpuUsPerOp(), s.clientCpuUsPerOp(), s.loadAverage(), s.failureText());
        }
      }
    }
    printTable(samples);
    boolean answered = samples.stream().allMatch(s -> s.ok() > 0);
    return answered ? 0 : 1;
  }

  private ClosedLoops.Load load(int inFlight, int warmup, int measured, long runSeed) {
    return new ClosedLoops.Load(inFlight, common.contexts(), warmup, measured, runSeed,
        common.timeoutMs() / 1000, nodePids);
  }

  /**
   * The keys whose primary is {@link #FLOOR_NODE} in that node's own table (from its
   * {@code /status}), which the floor's requests use; prints how the keys spread.
   */
  private String[] floorKeys(String[] names, JsonObject floorStatus, PartitionTable client) {
    List<String> primaries = ProcessCluster.primaries(floorStatus);
    PartitionTable hash = PartitionTable.empty(new PlacementConfig(primaries.size(),
        PlacementConfig.DEFAULT_REPLICAS, PlacementConfig.DEFAULT_VNODES,
        PlacementConfig.DEFAULT_LOAD_FACTOR));
    String[] floorKeys = Arrays.stream(names)
        .filter(k -> FLOOR_NODE.equals(primaries.get(hash.partitionOf(k))))
        .toArray(String[]::new);
    if (floorKeys.length == 0) {
      throw new IllegalStateException("none of the " + common.keys() + " keys has " + FLOOR_NODE
          + " as primary: use more keys");
    }
    System.out.printf(Locale.ROOT, "keys cover %d of %d partitions; %,d of them have %s as"
        + " primary (the floor's keys); %s at epoch %d; the client's table: %d partitions,"
        + " epoch %d, data members %s%n%n",
        Arrays.stream(names).mapToInt(hash::partitionOf).distinct().count(), primaries.size(),
        floorKeys.length, FLOOR_NODE, FLOOR_NODE, floorStatus.getLong("epoch"),
        client.partitionCount(), client.epoch(), client.members().stream().map(m -> m.name())
            .toList());
    if (client.partitionCount() != primaries.size()) {
      System.out.printf("NOTE: the client routes with %d partitions, the nodes with %d:"
          + " its leader guesses are wrong%n%n",
          client.partitionCount(), primaries.size());
    }
    return floorKeys;
  }

  private void printTable(List<Sample> samples) {
    Table t = new Table(String.format(Locale.ROOT, "Counter adds against the event-bus floor,"
        + " 3 node JVMs (P = %d), medians of %d run(s), %d s each", common.partitions(),
        common.runs(), common.seconds()),
        "case", "in flight", "ops/s", "p50", "p99", "ops/s over runs", "add vs floor",
        "node CPU per request", "failures (all runs)");
    for (int inFlight : common.inFlights()) {
      List<Sample> f = of(samples, FLOOR, inFlight);
      List<Sample> a = of(samples, ADD, inFlight);
      row(t, FLOOR, inFlight, f, "");
      String ratio = String.format(Locale.ROOT, "%.2f× ops/s, %.1f× p50, %.1f× p99",
          median(a, Sample::opsPerS) / median(f, Sample::opsPerS),
          median(a, s -> s.p50Ns()) / median(f, s -> s.p50Ns()),
          median(a, s -> s.p99Ns()) / median(f, s -> s.p99Ns()));
      row(t, ADD, inFlight, a, ratio);
    }
    t.print();
  }

  private static void row(Table t, String name, int inFlight, List<Sample> s, String ratio) {
    Map<String, Long> failures = new TreeMap<>();
    s.forEach(x -> x.failures().forEach((k, v) -> failures.merge(k, v, Long::sum)));
    double[] ops = s.stream().mapToDouble(Sample::opsPerS).sorted().toArray();
    t.row(name, inFlight, String.format(Locale.ROOT, "%,.0f", median(s, Sample::opsPerS)),
        Table.latency(s, Sample::p50Ns), Table.latency(s, Sample::p99Ns),
        String.format(Locale.ROOT, "%,.0f–%,.0f", ops[0], ops[ops.length - 1]), ratio,
        String.format(Locale.ROOT, "%,.0f µs", median(s, Sample::nodeCpuUsPerOp)),
        Table.failures(failures));
  }

  private static List<Sample> of(List<Sample> samples, String name, int inFlight) {
    return samples.stream().filter(s -> s.name().equals(name) && s.inFlight() == inFlight)
        .toList();
  }
}
