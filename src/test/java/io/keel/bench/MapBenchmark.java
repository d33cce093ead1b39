package io.keel.bench;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.keel.bench.ClosedLoops.Sample;
import io.keel.bench.MapOps.Verb;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.keel.map.KeelMap;
import io.keel.routing.Routing;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.AsyncMap;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Keel's replicated map against Hazelcast's {@code IMap} and Vert.x's clustered
 * {@code AsyncMap} on one cluster of three node processes, in the same run (a {@code main}, not
 * JMH: the system under test is three other processes).
 *
 * <p>Three data nodes run as child JVMs from {@code target/keel.jar} ({@link ProcessCluster}:
 * 127.0.0.1, P partitions, 3 replicas, group fsync). Each node is also a Hazelcast member,
 * whose {@code IMap}s keep one synchronous backup in memory (Hazelcast's default) and nothing
 * on disk; Keel acknowledges a write once 2 of the key's 3 replicas have it fsync'd in their
 * write-ahead log. In this JVM:
 * <ul>
 *   <li>a Keel client node on a Vert.x whose Hazelcast member is a <em>lite</em> member
 *       ({@link BenchClient#joinLite}): it owns no Hazelcast partition or backup, so its
 *       {@code AsyncMap} operations are all served by the three nodes (and it keeps only keys
 *       that {@link BenchClient#remote} says another JVM owns, which with a lite member is
 *       every key); Keel requests go from it to the key's leader;
 *   <li>a Hazelcast client ({@code HazelcastClient}, smart routing: straight to the key's
 *       owner) for {@code IMap}.
 * </ul>
 *
 * <p>The comparison: for each of {@code runs} runs, each in-flight count and put then get,
 * each system ({@link ClosedLoops}: {@code warmup-s} unrecorded, {@code seconds} measured; the
 * order of the systems rotates between runs) on {@code keys} keys written beforehand, 100 B
 * values ({@link MapOps}). Keel twice: {@code KeelMap} on the client node (straight to the
 * leader), and {@code keel.map.put|get} over the event bus (to any node answering the address,
 * the client included, which routes to the leader).
 *
 * <p>Then, on the same cluster: {@link MapGrowth} (heap, disk and throughput as the map grows
 * to each of {@code growth}) and {@link MapJoin} (a fourth node joins: data moved, write
 * pauses); and, once the three processes are gone, {@link MapInJvm} (gets on three nodes in this
 * JVM, issued on a data node, with locally led keys apart).
 *
 * <p>Arguments ({@code --name value}): {@code seconds} (5), {@code warmup-s} (2),
 * {@code jit-warmup-s} (5), {@code runs} (3), {@code in-flight} (1,64), {@code partitions}
 * (512), {@code keys} (10000), {@code timeout-ms} (5000), {@code contexts} (2, client event
 * loops), {@code settle-s} (300), {@code seed} (1), {@code parts}
 * (compare,growth,join,injvm), {@code systems} (keel,keel-single,keel-bus,imap,asyncmap: those
 * compared), {@code ops} (put,get: those compared, puts first), {@code growth}
 * (10000,100000: cumulative entry counts),
 * {@code load-in-flight} (128), {@code growth-budget-s} (0: none; past it, growth loads no
 * more and reports the step it reached), {@code join-window-s} (120), {@code join-baseline-s}
 * (5).
 * The nodes run with {@code -Dkeel.child.jvm.args} (default {@code -Xmx2g}: a map budget of
 * 512 MiB per node, a quarter of the heap). This JVM wants Hazelcast's {@code --add-opens}
 * flags (the pom's {@code hz.jvm.args}).
 */
public final class MapBenchmark {
  static final String MAP = "bench";
  static final List<String> NODES = List.of("n1", "n2", "n3");
  static final String KEEL_DURABILITY = "fsync'd on 2 of 3 replicas";
  static final String HZ_DURABILITY = "in memory, 1 sync backup, no disk";
  private static final String IMAP = "imap";
  private static final String UNBATCHED = "keel-single";
  private static final List<String> SYSTEMS = List.of("keel", UNBATCHED, "keel-bus", IMAP,
      "asyncmap");

  final BenchArgs.Common common;
  private final String[] eventLoops;
  final Set<String> parts;
  private final Set<String> systemIds;
  final List<String> verbs;
  final long[] growth;
  final int loadInFlight;
  final long growthBudgetS;
  final int joinWindowS;
  final int joinBaselineS;
  private final List<Table> tables = new ArrayList<>();
  private long[] nodePids;

  /** One system under comparison: how to put and get, and how durable a put is. */
  record Contender(String id, String label, String durability, Verb put, Verb get) {}

  private MapBenchmark(BenchArgs args) {
    common = args.common(5, "contexts", 300);
    eventLoops = args.eventLoopArgs();
    parts = args.words("parts", "compare,growth,join,injvm");
    systemIds = args.words("systems", String.join(",", SYSTEMS));
    Set<String> ops = args.words("ops", "put,get");
    verbs = List.of("put", "get").stream().filter(ops::contains).toList();
    growth = args.longs("growth", "10000,100000");
    loadInFlight = args.integer("load-in-flight", 128);
    growthBudgetS = args.longValue("growth-budget-s", 0);
    joinWindowS = args.integer("join-window-s", 120);
    joinBaselineS = args.integer("join-baseline-s", 5);
    args.requireAllUsed();
    BenchArgs.require(loadInFlight >= 1 && joinWindowS > joinBaselineS && growthBudgetS >= 0
        && Arrays.stream(growth).allMatch(n -> n >= 1)
        && !verbs.isEmpty() && verbs.size() == ops.size(),
        "bad arguments: " + args);
    for (int i = 1; i < growth.length; i++) {
      BenchArgs.require(growth[i] > growth[i - 1], "growth must increase, was "
          + Arrays.toString(growth));
    }
  }

  /** Runs the benchmark; prints progress, then the markdown tables. */
  public static void main(String[] argv) throws Exception {
    BenchArgs.prepareJvm("-Xmx2g");
    System.exit(new MapBenchmark(BenchArgs.parse(argv)).run());
  }

  private int run() throws Exception {
    Path logDir = NodeProcess.freshLogDir("MapBenchmark");
    System.out.printf(Locale.ROOT, "# Map benchmark: 3 node JVMs + this JVM; P = %d,"
        + " %,d keys, 100 B values, in flight %s, %d s measured after %d s warm-up, %d run(s);"
        + " parts %s, growth %s; %d cores, load average %.1f at start; child JVM args '%s';"
        + " node args %s; node logs %s%n%n", common.partitions(), common.keys(),
        Arrays.toString(common.inFlights()), common.seconds(), common.warmupS(), common.runs(),
        parts, Arrays.toString(growth), Runtime.getRuntime().availableProcessors(),
        ClosedLoops.loadAverage(), System.getProperty("keel.child.jvm.args"),
        String.join(" ", eventLoops), logDir);
    long t0 = System.nanoTime();
    if (parts.contains("compare") || parts.contains("growth") || parts.contains("join")) {
      try (ProcessCluster cluster = new ProcessCluster(logDir, NODES.size() + 1,
          "--partitions", Integer.toString(common.partitions()), eventLoops[0],
          eventLoops[1])) {
        cluster.startAll(NODES.toArray(new String[0]));
        cluster.awaitAgreement(NODES, Duration.ofSeconds(common.settleS()));
        Settled.await(cluster, NODES, common.settleS(), false);
        log("3 nodes ready, every replica active in %,d ms", ClosedLoops.ms(t0));
        try {
          Settled.await(cluster, NODES, Math.min(common.settleS(), 30), true);
        } catch (IllegalStateException e) {
          log("NOTE: not every group is led by its table primary (%s); going on", e.getMessage());
        }
        nodePids = NODES.stream().mapToLong(n -> cluster.node(n).pid()).toArray();
        onCluster(cluster, t0);
      }
    }
    if (parts.contains("injvm")) {
      tables.add(new MapInJvm(this).run());
    }
    System.out.printf(Locale.ROOT, "%n# Results (load average %.1f at the end)%n",
        ClosedLoops.loadAverage());
    tables.forEach(Table::print);
    return 0;
  }

  private void onCluster(ProcessCluster cluster, long t0) throws Exception {
    BenchClient client = BenchClient.joinLite(cluster.clusterName(),
        cluster.joinList().subList(0, NODES.size()), "map-bench-client");
    HazelcastInstance hz = null;
    try {
      ClientConfig config = new ClientConfig().setClusterName(cluster.clusterName())
          .setInstanceName("map-bench-imap");
      config.getNetworkConfig().setAddresses(cluster.joinList().subList(0, NODES.size()));
      config.setProperty("hazelcast.logging.type", "slf4j");
      hz = HazelcastClient.newHazelcastClient(config);
      log("Keel client (a Hazelcast lite member) and Hazelcast client joined in %,d ms",
          ClosedLoops.ms(t0));
      log("idle, over 5 s: %s", ClosedLoops.idleCpu(nodePids, 5_000));
      if (parts.contains("compare")) {
        compare(client, hz);
      }
      if (parts.contains("growth")) {
        tables.add(new MapGrowth(this, cluster, client, nodePids).run());
      }
      if (parts.contains("join")) {
        tables.add(new MapJoin(this, cluster, client).run());
      }
    } finally {
      if (hz != null) {
        hz.shutdown();
      }
      client.close();
    }
  }

  private void compare(BenchClient client, HazelcastInstance hz) throws Exception {
    Vertx vertx = client.vertx();
    Set<UUID> local = Set.of(client.memberId());
    List<String> remote = new ArrayList<>();
    for (int i = 0; remote.size() < common.keys(); i++) {
      if (client.remote("k:" + i, local)) {
        remote.add("k:" + i);
      }
    }
    String[] names = remote.toArray(new String[0]);
    KeelMap keel = client.keel().map(MAP);
    IMap<String, String> imap = hz.getMap("bench-imap");
    AsyncMap<String, String> async = vertx.sharedData().<String, String>getAsyncMap(
        "bench-async").await(60, TimeUnit.SECONDS);
    List<Contender> all = List.of(
        new Contender("keel", "Keel, `KeelMap` on the client node", KEEL_DURABILITY,
            MapOps.keelPut(keel), MapOps.keelGet(keel)),
        new Contender(UNBATCHED, "Keel, `KeelMap` on the client node, one message per request"
            + " (`routeBatching: false`)", KEEL_DURABILITY, MapOps.keelPut(keel),
            MapOps.keelGet(keel)),
        new Contender("keel-bus", "Keel, `keel.map.*` over the event bus (entry: any node)",
            KEEL_DURABILITY, MapOps.busPut(vertx, MAP, common.timeoutMs()),
            MapOps.busGet(vertx, MAP, common.timeoutMs())),
        new Contender(IMAP, "Hazelcast `IMap` (Hazelcast client)", HZ_DURABILITY,
            MapOps.imapPut(imap), MapOps.imapGet(imap)),
        new Contender("asyncmap", "Vert.x `AsyncMap` (lite member)", HZ_DURABILITY,
            MapOps.asyncPut(async), MapOps.asyncGet(async)));
    List<Contender> systems = all.stream().filter(c -> systemIds.contains(c.id())).toList();
    BenchArgs.require(!systems.isEmpty(), "--systems names none of " + SYSTEMS);
    // KeelMap writes the map keel.map.* reads: fill it once, through keel.map.*.
    for (Contender s : all.subList(2, all.size())) {
      if (s != all.get(2) && !systems.contains(s)) {
        continue;
      }
      MapOps.Filled f = MapOps.fill(vertx, 0, names.length, 64, i -> names[i], s.put());
      log("%s: %,d keys written in %,d ms (%,.0f/s), %d lost", s.label(), f.written(), f.ms(),
          f.perS(), f.lost());
    }
    int max = common.maxInFlight();
    log("JIT warm-up, not recorded: %d s of each put and get at %d in flight",
        common.jitWarmupS(), max);
    for (Contender s : systems) {
      for (String verb : verbs) {
        drive(client, verb, s, max, 0, names, common.jitWarmupS(), 0);
      }
    }
    List<Sample> samples = new ArrayList<>();
    for (int run = 1; run <= common.runs(); run++) {
      List<Contender> order = new ArrayList<>(systems);
      Collections.rotate(order, run - 1);
      for (int inFlight : common.inFlights()) {
        for (String verb : verbs) {
          for (Contender s : order) {
            Sample x = drive(client, verb, s, inFlight, run, names, common.warmupS(),
                common.seconds());
            samples.add(x);
            log("run %d %s %s, %d in flight: %,.0f ops/s, p50 %s, p99 %s, max %s; node CPU %.0f"
                + " µs/op, this JVM's %.0f µs/op; load %.1f; failures %s", run, s.id(), verb,
                inFlight, x.opsPerS(), Table.fmt(x.p50Ns()), Table.fmt(x.p99Ns()),
                Table.fmt(x.maxNs()), x.nodeCpuUsPerOp(), x.clientCpuUsPerOp(), x.loadAverage(),
                x.failureText());
          }
        }
      }
    }
    tables.add(MapReport.comparison(this, systems, samples));
    imap.destroy();
    async.clear().await(60, TimeUnit.SECONDS);
  }

  private Sample drive(BenchClient client, String verb, Contender s, int inFlight, int run,
      String[] names, int warmup, int measured) throws Exception {
    Vertx vertx = client.vertx();
    Routing routing = client.keel().routing();
    routing.useBatching(!s.id().equals(UNBATCHED));
    try {
      return ClosedLoops.drive(verb, s.id(), run, vertx, MapOps.random(names,
          verb.equals("put") ? s.put() : s.get()), load(inFlight, warmup, measured, run));
    } finally {
      routing.useBatching(true);
    }
  }

  /** A closed-loop load with this benchmark's settings, the node processes' CPU measured. */
  ClosedLoops.Load load(int inFlight, int warmup, int measured, long run) {
    return new ClosedLoops.Load(inFlight, common.contexts(), warmup, measured,
        common.seed() * 1_000 + run, common.timeoutMs() / 1000,
        nodePids == null ? new long[0] : nodePids);
  }

  /** Prints a progress line. */
  static void log(String format, Object... args) {
    System.out.printf(Locale.ROOT, format + "%n", args);
  }
}
