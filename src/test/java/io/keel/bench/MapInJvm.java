package io.keel.bench;

import static io.keel.bench.MapBenchmark.log;

import io.keel.Keel;
import io.keel.bench.ClosedLoops.Sample;
import io.keel.bus.Addresses;
import io.keel.harness.InJvmCluster;
import io.keel.map.KeelMap;
import io.keel.routing.PartitionTable;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Keel gets issued on a data node: three nodes in this JVM ({@link InJvmCluster}, loopback,
 * P partitions), loops on node {@code a} calling {@code keel.map(...).get(key)} directly, over
 * all keys (about a third of them led by {@code a}, served there without the event bus), and
 * over the keys {@code a} leads and the others apart, as the leaders stand at each run's start.
 * All three nodes share this JVM's two cores with the loops.
 */
final class MapInJvm {
  private static final List<String> NODES = List.of("a", "b", "c");
  private static final String[] SUBSETS = {"all keys", "keys led by a", "keys led by b or c"};

  private final MapBenchmark b;

  MapInJvm(MapBenchmark b) {
    this.b = b;
  }

  Table run() throws Exception {
    List<Sample> samples = new ArrayList<>();
    String threads;
    try (InJvmCluster cluster = new InJvmCluster(NODES.size())) {
      for (String n : NODES) {
        cluster.start(n, o -> o.setPartitions(b.common.partitions()));
      }
      Keel a = cluster.node("a");
      Settled.await(n -> status(a, n), NODES, 3, b.common.settleS(), false);
      log("in-JVM: 3 nodes settled");
      KeelMap map = a.map(MapBenchmark.MAP);
      String[] all = new String[b.common.keys()];
      java.util.Arrays.setAll(all, i -> "k:" + i);
      MapOps.Filled f = MapOps.fill(a.vertx(), 0, all.length, 64, i -> all[i],
          MapOps.keelPut(map));
      log("in-JVM: %,d keys written in %,d ms (%,.0f/s)", f.written(), f.ms(), f.perS());
      threads = threads(a, map, all);
      log("in-JVM: %s", threads);
      int max = b.common.maxInFlight();
      ClosedLoops.drive("get", SUBSETS[0], 0, a.vertx(), MapOps.random(all,
          MapOps.keelGet(map)), b.load(max, b.common.jitWarmupS(), 0, 0));
      for (int run = 1; run <= b.common.runs(); run++) {
        String[][] subsets = split(a, all);
        for (int inFlight : b.common.inFlights()) {
          for (int s = 0; s < SUBSETS.length; s++) {
            Sample x = ClosedLoops.drive("get", SUBSETS[s], run, a.vertx(),
                MapOps.random(subsets[s], MapOps.keelGet(map)),
                b.load(inFlight, b.common.warmupS(), b.common.seconds(), run));
            samples.add(x);
            log("in-JVM run %d get %s (%,d keys), %d in flight: %,.0f ops/s, p50 %s, p99 %s;"
                + " load %.1f; failures %s", run, SUBSETS[s], subsets[s].length, inFlight,
                x.opsPerS(), Table.fmt(x.p50Ns()), Table.fmt(x.p99Ns()), x.loadAverage(),
                x.failureText());
          }
        }
      }
    }
    return table(samples, threads);
  }

  /** Node {@code n}'s {@code /status} document, asked over {@code a}'s event bus. */
  private static JsonObject status(Keel a, String n) {
    try {
      return a.vertx().eventBus().<JsonObject>request(Addresses.status(n), new JsonObject())
          .map(Message::body).await(10, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(n + " did not answer its status in 10 s", e);
    }
  }

  /** All keys, those node {@code a} leads now, and the others. */
  private static String[][] split(Keel a, String[] all) {
    PartitionTable t = a.routing().table();
    List<String> local = new ArrayList<>();
    List<String> remote = new ArrayList<>();
    for (String k : all) {
      ("a".equals(a.groups().leaderOf(t.partitionOf(k))) ? local : remote).add(k);
    }
    return new String[][] {all, local.toArray(new String[0]), remote.toArray(new String[0])};
  }

  /**
   * On which thread a caller on {@code a}'s event loop gets the answer of a get and a put, for
   * a key {@code a} leads and one it does not.
   */
  private static String threads(Keel a, KeelMap map, String[] all) throws Exception {
    String[][] s = split(a, all);
    List<String> out = new ArrayList<>();
    for (String[] keys : List.of(s[1], s[2])) {
      String key = keys[0];
      String where = keys == s[1] ? "led by a" : "led elsewhere";
      for (String verb : List.of("get", "put")) {
        Promise<String> p = Promise.promise();
        a.vertx().getOrCreateContext().runOnContext(v -> {
          String caller = Thread.currentThread().getName();
          Future<?> f = verb.equals("get") ? map.get(key) : map.put(key, MapOps.value(0));
          f.onComplete(ar -> p.complete(verb + " of a key " + where + ": called on " + caller
              + ", answered on " + Thread.currentThread().getName()));
        });
        out.add(p.future().await(30, TimeUnit.SECONDS));
      }
    }
    return String.join("; ", out);
  }

  private Table table(List<Sample> samples, String threads) {
    Table t = new Table(String.format(Locale.ROOT, "Keel gets issued on a data node: 3 nodes in"
        + " ONE JVM (P = %d), loops on node a calling `keel.map(\"%s\").get(key)`; medians of"
        + " %d run(s) of %d s", b.common.partitions(), MapBenchmark.MAP, b.common.runs(),
        b.common.seconds()), "keys",
        "in flight", "gets/s", "p50", "p99", "JVM CPU per get", "failures (all runs)");
    for (int inFlight : b.common.inFlights()) {
      for (String subset : SUBSETS) {
        List<Sample> s = MapReport.of(samples, "get", inFlight, subset);
        t.row(subset, inFlight, Table.rate(s, Sample::opsPerS), Table.latency(s, Sample::p50Ns),
            Table.latency(s, Sample::p99Ns), String.format(Locale.ROOT, "%,.0f µs",
                Table.median(s, Sample::clientCpuUsPerOp)), MapReport.failures(s));
      }
    }
    return t.note("Not comparable with the 3-process figures: the three nodes and the loops"
        + " share one JVM and two cores; \"JVM CPU\" is all of it. Leaders as at each run's"
        + " start (a key whose leader moved meanwhile is served through the event bus). Threads"
        + " seen: " + threads + ".");
  }
}
