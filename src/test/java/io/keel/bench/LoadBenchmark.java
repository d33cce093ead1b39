package io.keel.bench;

import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.harness.InJvmCluster;
import io.keel.harness.InProcessClient;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.keel.routing.PartitionTable;
import io.keel.routing.PlacementConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.HdrHistogram.Histogram;

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
 * <p>The load is closed-loop: {@code in-flight} loops on the client's event loops, each sending
 * its next request when the last one is answered. A request counts when its answer arrives
 * within the measured window: successes give ops/s and the latency histogram (HdrHistogram, from
 * send to answer), failures are counted by their code ({@code UNAVAILABLE}, {@code TIMEOUT}, a
 * bus timeout, ...), never dropped. The table shows the median over the runs.
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
  private static final long LATENCY_NS_MAX = TimeUnit.SECONDS.toNanos(120);

  private final int seconds;
  private final int warmupS;
  private final int jitWarmupS;
  private final int runs;
  private final int[] inFlights;
  private final int partitions;
  private final int keys;
  private final long timeoutMs;
  private final int clientContexts;
  private final long settleS;
  private final long seed;
  private final AtomicLong requestIds = new AtomicLong();
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private volatile String lastReason = "no status read yet";
  private long[] nodePids = new long[0];

  private LoadBenchmark(Map<String, String> args) {
    seconds = Integer.parseInt(args.getOrDefault("seconds", "5"));
    warmupS = Integer.parseInt(args.getOrDefault("warmup-s", "2"));
    jitWarmupS = Integer.parseInt(args.getOrDefault("jit-warmup-s", "10"));
    runs = Integer.parseInt(args.getOrDefault("runs", "3"));
    inFlights = Arrays.stream(args.getOrDefault("in-flight", "1,64").split(","))
        .mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    partitions = Integer.parseInt(args.getOrDefault("partitions", "512"));
    keys = Integer.parseInt(args.getOrDefault("keys", "10000"));
    timeoutMs = Long.parseLong(args.getOrDefault("timeout-ms", "5000"));
    clientContexts = Integer.parseInt(args.getOrDefault("client-contexts", "2"));
    settleS = Long.parseLong(args.getOrDefault("settle-s", "180"));
    seed = Long.parseLong(args.getOrDefault("seed", "1"));
    if (seconds < 1 || warmupS < 0 || jitWarmupS < 0 || runs < 1 || keys < 1 || timeoutMs < 1
        || clientContexts < 1 || Arrays.stream(inFlights).anyMatch(n -> n < 1)) {
      throw new IllegalArgumentException("seconds, runs, keys, timeout-ms, client-contexts and"
          + " every in-flight count must be >= 1, warmup-s >= 0; was " + args);
    }
  }

  /** Runs the benchmark; prints progress, each run's figures and the markdown table. */
  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      int eq = a.indexOf('=');
      if (a.startsWith("--")) {
        if (eq > 0) {
          args.put(a.substring(2, eq), a.substring(eq + 1));
        } else {
          args.put(a.substring(2), argv[++i]);
        }
      } else {
        args.put(a.substring(0, eq), a.substring(eq + 1));
      }
    }
    // As KeelMain does for a node, before Hazelcast starts in this JVM (the client).
    String fj = "java.util.concurrent.ForkJoinPool.common.parallelism";
    System.setProperty(fj, System.getProperty(fj,
        Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors()))));
    System.setProperty("hazelcast.logging.type",
        System.getProperty("hazelcast.logging.type", "slf4j"));
    int code = new LoadBenchmark(args).run();
    System.exit(code);
  }

  /** One case of one run. */
  private record Sample(String name, int inFlight, long ok, double seconds, long p50Ns,
      long p99Ns, long p999Ns, long maxNs, Map<String, Long> failures,
      Map<String, String> firstFailure, double loadAverage, double nodeCpuUsPerOp,
      double clientCpuUsPerOp) {
    double opsPerS() {
      return ok / seconds;
    }
  }

  /** What a loop sends: one request, answered or failed. */
  private interface Op {
    Future<?> send(SplittableRandom rnd);
  }

  private int run() throws Exception {
    Path logDir = NodeProcess.logRoot().resolve("LoadBenchmark");
    InJvmCluster.deleteTree(logDir);
    Files.createDirectories(logDir);
    System.out.printf(Locale.ROOT, "# Load benchmark: 3 node JVMs + this client JVM, %d"
        + " partitions, %,d keys, in flight %s, %d s measured after %d s warm-up, %d run(s);"
        + " %d cores, load average %.1f at start; child JVM args '%s'; node logs %s%n%n",
        partitions, keys, Arrays.toString(inFlights), seconds, warmupS, runs,
        Runtime.getRuntime().availableProcessors(), loadAverage(),
        System.getProperty("keel.child.jvm.args", ""), logDir);
    long t0 = System.nanoTime();
    try (ProcessCluster cluster = new ProcessCluster(logDir, NODES.size(), "--partitions",
        Integer.toString(partitions))) {
      cluster.startAll(NODES.toArray(new String[0]));
      System.out.printf(Locale.ROOT, "nodes ready in %,d ms%n", ms(t0));
      cluster.awaitAgreement(NODES, Duration.ofSeconds(settleS));
      awaitSettled(cluster, false);
      System.out.printf(Locale.ROOT, "every replica active with 3 members in %,d ms%n", ms(t0));
      try {
        awaitSettled(cluster, true);
        System.out.printf(Locale.ROOT, "every group led by its table primary in %,d ms%n",
            ms(t0));
      } catch (ConditionTimeoutException e) {
        System.out.printf("NOTE: not every group is led by its table primary (%s); going on%n",
            lastReason);
      }
      nodePids = NODES.stream().mapToLong(n -> cluster.node(n).pid()).toArray();
      try (InProcessClient client = InProcessClient.join(cluster, "load-client")) {
        System.out.printf(Locale.ROOT, "client joined in %,d ms%n", ms(t0));
        long idle0 = cpuNanos(nodePids);
        long i0 = System.nanoTime();
        Thread.sleep(5_000); // a benchmark's own wait: the idle cluster's CPU, over 5 s
        System.out.printf(Locale.ROOT, "idle, the three nodes use %.0f%% of one core together"
            + " (load average %.1f)%n%n", 100.0 * (cpuNanos(nodePids) - idle0)
            / (System.nanoTime() - i0), loadAverage());
        return measure(cluster, client);
      }
    }
  }

  private int measure(ProcessCluster cluster, InProcessClient client) throws Exception {
    Vertx vertx = client.keel().vertx();
    String[] names = new String[keys];
    Arrays.setAll(names, i -> "load:" + i);
    JsonObject status = cluster.node(FLOOR_NODE).status();
    long epoch = status.getLong("epoch");
    String[] floorKeys = floorKeys(names, status, client.table());
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(timeoutMs + 5_000);
    String floorAddress = Addresses.shard(Keel.PING_SERVICE, FLOOR_NODE);
    Op floor = rnd -> vertx.eventBus().request(floorAddress, new JsonObject()
        .put("key", floorKeys[rnd.nextInt(floorKeys.length)]).put("epoch", epoch)
        .put("body", new JsonObject()), delivery);
    Op add = rnd -> vertx.eventBus().request(Addresses.COUNTER_ADD, new JsonObject()
        .put("key", names[rnd.nextInt(names.length)]).put("delta", 1)
        .put("requestId", "lb-" + runId + "-" + requestIds.incrementAndGet())
        .put("timeoutMs", timeoutMs), delivery);

    int maxInFlight = Arrays.stream(inFlights).max().orElse(1);
    System.out.printf(Locale.ROOT, "JIT warm-up, not recorded: %d s of each at %d in flight%n",
        jitWarmupS, maxInFlight);
    drive(vertx, floor, FLOOR, maxInFlight, jitWarmupS, 0, 0);
    drive(vertx, add, ADD, maxInFlight, jitWarmupS, 0, 1);
    List<Sample> samples = new ArrayList<>();
    for (int run = 1; run <= runs; run++) {
      for (int inFlight : inFlights) {
        for (String name : List.of(FLOOR, ADD)) {
          Sample s = drive(vertx, name.equals(FLOOR) ? floor : add, name, inFlight, warmupS,
              seconds, seed * 1_000 + run);
          samples.add(s);
          System.out.printf(Locale.ROOT, "run %d: %s, %d in flight: %,.0f ops/s, p50 %s, p99"
              + " %s, p99.9 %s, max %s; CPU per request: nodes %.0f µs, client %.0f µs;"
              + " load average %.1f; failures %s%n", run, name, inFlight, s.opsPerS(),
              fmt(s.p50Ns()), fmt(s.p99Ns()), fmt(s.p999Ns()), fmt(s.maxNs()),
              s.nodeCpuUsPerOp(), s.clientCpuUsPerOp(), s.loadAverage(),
              failures(s.failures()) + (s.firstFailure().isEmpty() ? ""
                  : " (first of each: " + s.firstFailure() + ")"));
        }
      }
    }
    printTable(samples);
    boolean answered = samples.stream().allMatch(s -> s.ok() > 0);
    return answered ? 0 : 1;
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
      throw new IllegalStateException("none of the " + keys + " keys has " + FLOOR_NODE
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

  /**
   * Keeps {@code inFlight} requests outstanding for {@code warmup + measured} seconds and
   * returns the answers that arrived in the measured window.
   */
  private Sample drive(Vertx vertx, Op op, String name, int inFlight, int warmup, int measured,
      long runSeed) throws Exception {
    long from = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
    long end = from + TimeUnit.SECONDS.toNanos(measured);
    int instances = Math.max(1, Math.min(inFlight, clientContexts));
    AtomicInteger index = new AtomicInteger();
    List<Loops> all = new CopyOnWriteArrayList<>();
    long nodeCpu0 = cpuNanos(nodePids);
    long clientCpu0 = cpuNanos(new long[] {ProcessHandle.current().pid()});
    String id = vertx.deployVerticle(() -> {
      int i = index.getAndIncrement();
      Loops l = new Loops(op, inFlight / instances + (i < inFlight % instances ? 1 : 0), from,
          end, new SplittableRandom(runSeed * 31 + i));
      all.add(l);
      return l;
    }, new DeploymentOptions().setInstances(instances)).await(60, TimeUnit.SECONDS);
    long waitS = warmup + measured + timeoutMs / 1000 + 60;
    Future.all(all.stream().map(l -> l.done.future()).toList()).await(waitS, TimeUnit.SECONDS);
    long nodeCpu = cpuNanos(nodePids) - nodeCpu0;
    long clientCpu = cpuNanos(new long[] {ProcessHandle.current().pid()}) - clientCpu0;
    vertx.undeploy(id).await(60, TimeUnit.SECONDS);
    Histogram h = new Histogram(LATENCY_NS_MAX, 3);
    Map<String, Long> failures = new TreeMap<>();
    Map<String, String> first = new TreeMap<>();
    long ok = 0;
    long answered = 0;
    for (Loops l : all) {
      h.add(l.latencies);
      ok += l.ok;
      answered += l.answered;
      l.failures.forEach((k, v) -> failures.merge(k, v, Long::sum));
      l.firstFailure.forEach(first::putIfAbsent);
    }
    return new Sample(name, inFlight, ok, Math.max(1, measured), h.getValueAtPercentile(50),
        h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(), failures,
        first, loadAverage(), nodeCpu / 1e3 / Math.max(1, answered),
        clientCpu / 1e3 / Math.max(1, answered));
  }

  /**
   * Closed-loop senders on one event-loop context: each sends its next request when the last
   * is answered, until {@code endNanos}. Only this context touches the fields until
   * {@link #done} completes.
   */
  private static final class Loops extends VerticleBase {
    final Promise<Void> done = Promise.promise();
    final Histogram latencies = new Histogram(LATENCY_NS_MAX, 3);
    final Map<String, Long> failures = new TreeMap<>();
    final Map<String, String> firstFailure = new TreeMap<>();
    final Op op;
    final long fromNanos;
    final long endNanos;
    final SplittableRandom rnd;
    long ok;
    long answered;
    int running;

    Loops(Op op, int loops, long fromNanos, long endNanos, SplittableRandom rnd) {
      this.op = op;
      this.running = loops;
      this.fromNanos = fromNanos;
      this.endNanos = endNanos;
      this.rnd = rnd;
    }

    @Override
    public Future<?> start() {
      int loops = running;
      for (int i = 0; i < loops; i++) {
        next();
      }
      return Future.succeededFuture();
    }

    private void next() {
      long t0 = System.nanoTime();
      if (t0 >= endNanos) {
        if (--running == 0) {
          done.complete();
        }
        return;
      }
      Future<?> f;
      try {
        f = op.send(rnd);
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      // An answer at once (a synchronous failure) must not recurse: the next send goes later.
      boolean atOnce = f.isComplete();
      f.onComplete(ar -> {
        long t1 = System.nanoTime();
        answered++;
        if (t1 >= fromNanos && t1 <= endNanos) {
          if (ar.succeeded()) {
            ok++;
            latencies.recordValue(Math.min(t1 - t0, LATENCY_NS_MAX));
          } else {
            String code = code(ar.cause());
            failures.merge(code, 1L, Long::sum);
            firstFailure.putIfAbsent(code, String.valueOf(ar.cause().getMessage()));
          }
        }
        if (atOnce) {
          context.runOnContext(v -> next());
        } else {
          next();
        }
      });
    }
  }

  /** A failure's code: Keel's {@link Failure} name, else the bus failure type, else the class. */
  private static String code(Throwable t) {
    if (t instanceof ReplyException) {
      ReplyException re = (ReplyException) t;
      switch (re.failureType()) {
        case TIMEOUT:
          return "bus TIMEOUT (no answer in time)";
        case NO_HANDLERS:
          return "NO_HANDLERS";
        case RECIPIENT_FAILURE:
          Failure f = Failure.fromCode(re.failureCode());
          return f != null ? f.name() : "RECIPIENT_FAILURE " + re.failureCode();
        default:
          return re.failureType().name();
      }
    }
    return t.getClass().getSimpleName();
  }

  private void printTable(List<Sample> samples) {
    System.out.printf(Locale.ROOT, "%n## Counter adds against the event-bus floor, 3 node JVMs"
        + " (P = %d), medians of %d run(s), %d s each%n%n", partitions, runs, seconds);
    System.out.println("| case | in flight | ops/s | p50 | p99 | ops/s over runs | add vs floor"
        + " | node CPU per request | failures (all runs) |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    for (int inFlight : inFlights) {
      List<Sample> f = of(samples, FLOOR, inFlight);
      List<Sample> a = of(samples, ADD, inFlight);
      row(FLOOR, inFlight, f, "");
      String ratio = String.format(Locale.ROOT, "%.2f× ops/s, %.1f× p50, %.1f× p99",
          median(a, Sample::opsPerS) / median(f, Sample::opsPerS),
          median(a, s -> s.p50Ns()) / median(f, s -> s.p50Ns()),
          median(a, s -> s.p99Ns()) / median(f, s -> s.p99Ns()));
      row(ADD, inFlight, a, ratio);
    }
    System.out.println();
  }

  private static void row(String name, int inFlight, List<Sample> s, String ratio) {
    Map<String, Long> failures = new TreeMap<>();
    s.forEach(x -> x.failures().forEach((k, v) -> failures.merge(k, v, Long::sum)));
    double[] ops = s.stream().mapToDouble(Sample::opsPerS).sorted().toArray();
    System.out.printf(Locale.ROOT, "| %s | %d | %,.0f | %s | %s | %,.0f–%,.0f | %s | %,.0f µs |"
        + " %s |%n", name, inFlight, median(s, Sample::opsPerS),
        fmt((long) median(s, x -> x.p50Ns())), fmt((long) median(s, x -> x.p99Ns())), ops[0],
        ops[ops.length - 1], ratio, median(s, Sample::nodeCpuUsPerOp), failures(failures));
  }

  private static List<Sample> of(List<Sample> samples, String name, int inFlight) {
    return samples.stream().filter(s -> s.name().equals(name) && s.inFlight() == inFlight)
        .toList();
  }

  /** The median (the upper one for an even count, as RestartBenchmark). */
  private static double median(List<Sample> s, ToDoubleFunction<Sample> f) {
    double[] v = s.stream().mapToDouble(f).sorted().toArray();
    return v.length == 0 ? Double.NaN : v[v.length / 2];
  }

  private static String failures(Map<String, Long> failures) {
    return failures.isEmpty() ? "0" : failures.entrySet().stream()
        .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
  }

  /**
   * Waits until every node's recovery is {@code active} and each holds every partition, active
   * with 3 members (and, with {@code leaders}, led by the table's primary).
   */
  private void awaitSettled(ProcessCluster cluster, boolean leaders) {
    try {
      await(leaders ? "groups led by their primaries" : "every replica active")
          .atMost(Duration.ofSeconds(leaders ? Math.min(settleS, 30) : settleS))
          .pollInterval(Duration.ofMillis(500)).ignoreExceptions()
          .until(() -> (lastReason = unsettled(cluster, leaders)) == null);
    } catch (ConditionTimeoutException e) {
      if (leaders) {
        throw e;
      }
      throw new IllegalStateException("the cluster did not settle within " + settleS + " s: "
          + lastReason, e);
    }
  }

  /** Why the cluster is not settled yet, or null when it is. */
  private String unsettled(ProcessCluster cluster, boolean leaders) {
    int notLed = 0;
    for (String n : NODES) {
      JsonObject s = cluster.node(n).status();
      String phase = s.getJsonObject("recovery").getString("phase");
      if (!"active".equals(phase)) {
        return n + " is " + phase;
      }
      JsonArray parts = s.getJsonArray("partitions");
      if (parts.size() != partitions) {
        return n + " holds " + parts.size() + " of " + partitions + " partitions";
      }
      List<String> primaries = ProcessCluster.primaries(s);
      for (Object o : parts) {
        JsonObject p = (JsonObject) o;
        if (!"active".equals(p.getString("phase")) || p.getJsonArray("members").size() != 3) {
          return "on " + n + ": " + p.encode();
        }
        if (!primaries.get(p.getInteger("partition")).equals(p.getString("leader"))) {
          notLed++;
        }
      }
    }
    return leaders && notLed > 0 ? notLed + " replica(s) see a leader other than the table"
        + " primary" : null;
  }

  /** The CPU time the processes have used so far (0 for one that is gone). */
  private static long cpuNanos(long[] pids) {
    long sum = 0;
    for (long pid : pids) {
      sum += ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration())
          .map(Duration::toNanos).orElse(0L);
    }
    return sum;
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static String fmt(long ns) {
    if (ns < 1_000_000) {
      return String.format(Locale.ROOT, "%d µs", ns / 1_000);
    }
    return String.format(Locale.ROOT, ns < 100_000_000 ? "%.1f ms" : "%.0f ms", ns / 1e6);
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
