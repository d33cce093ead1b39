package io.keel.bench;

import static io.keel.bench.MapBenchmark.log;

import io.keel.bench.ClosedLoops.Sample;
import io.keel.harness.ProcessCluster;
import io.keel.map.KeelMap;
import io.keel.map.MapMachine;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Keel's map as it grows, on {@link MapBenchmark}'s cluster: the {@code growth} map is filled
 * to each step's entry count ({@link MapOps#fill}, {@code load-in-flight} puts at a time), and
 * after each step this measures puts (overwrites of random present keys) and gets at 64 in
 * flight, one sample each, then each node's heap after a full GC ({@code jcmd GC.run}), its data
 * directory's bytes, and its map entries and bytes as {@code /status} counts them. The "per
 * entry" figures are the growth over the first measurement, before any growth entry, divided by
 * the entries added: every node holds a replica of every partition, so each holds every entry.
 */
final class MapGrowth {
  private static final String MAP = "growth";
  private static final int IN_FLIGHT = 64;

  private final MapBenchmark b;
  private final ProcessCluster cluster;
  private final BenchClient client;
  private final long[] pids;

  MapGrowth(MapBenchmark b, ProcessCluster cluster, BenchClient client, long[] pids) {
    this.b = b;
    this.cluster = cluster;
    this.client = client;
    this.pids = pids;
  }

  /** What the nodes hold: per node, heap after GC, data dir bytes, map entries and bytes. */
  private record Probe(long[] heap, long[] disk, long[] entries, long[] mapBytes, long budget) {
    double mean(long[] v) {
      return Arrays.stream(v).average().orElse(Double.NaN);
    }
  }

  Table run() throws Exception {
    long max = b.growth[b.growth.length - 1];
    Probe base = probe();
    long need = (max + (long) base.mean(base.entries())) * MapMachine.cost("g:" + max, 100);
    log("growth: before, per node: heap after GC %s, data dir %s, %s entries (budget %s)",
        Table.mib(base.mean(base.heap())), Table.mib(base.mean(base.disk())),
        Arrays.toString(base.entries()), Table.mib(base.budget()));
    BenchArgs.require(need < base.budget() * 0.9, String.format(Locale.ROOT, "%,d entries"
        + " need about %s of map budget per node, more than 90%% of its %s (a quarter of the"
        + " node heap): give the nodes more heap with -Dkeel.child.jvm.args=-Xmx...", max,
        Table.mib(need), Table.mib(base.budget())));
    Table t = new Table(String.format(Locale.ROOT, "Keel map growth, 3 node JVMs (P = %d, node"
        + " JVM args '%s', map budget %s per node), 100 B values; puts and gets at %d in flight,"
        + " one %d s sample each", b.common.partitions(),
        System.getProperty("keel.child.jvm.args"), Table.mib(base.budget()), IN_FLIGHT,
        b.common.seconds()),
        "entries", "load (puts/s at " + b.loadInFlight + " in flight)", "puts/s", "put p50 / p99",
        "gets/s", "get p50 / p99", "heap after GC per node", "heap per entry",
        "/status map bytes per entry", "data dir per node", "disk per entry", "failures");
    KeelMap map = client.keel().map(MAP);
    long loaded = 0;
    long deadline = b.growthBudgetS == 0 ? Long.MAX_VALUE
        : System.nanoTime() + b.growthBudgetS * 1_000_000_000L;
    for (long target : b.growth) {
      MapOps.Filled f = MapOps.fill(client.vertx(), loaded, target, b.loadInFlight,
          i -> "g:" + i, MapOps.keelPut(map), deadline);
      loaded = f.end();
      long n = loaded;
      boolean cut = n < target;
      log("growth: %,d entries: loaded %,d in %,d ms (%,.0f/s), %d lost%s", n, f.written(),
          f.ms(), f.perS(), f.lost(), cut ? "; STOPPED short of " + target + " by the time"
              + " budget (growth-budget-s " + b.growthBudgetS + ")" : "");
      MapOps.Verb put = MapOps.keelPut(map);
      MapOps.Verb get = MapOps.keelGet(map);
      Sample puts = ClosedLoops.drive("put", "growth", 0, client.vertx(),
          (loop, i, rnd) -> put.call("g:" + rnd.nextLong(n), i),
          b.load(IN_FLIGHT, b.common.warmupS(), b.common.seconds(), 0));
      Sample gets = ClosedLoops.drive("get", "growth", 0, client.vertx(),
          (loop, i, rnd) -> get.call("g:" + rnd.nextLong(n), i),
          b.load(IN_FLIGHT, b.common.warmupS(), b.common.seconds(), 0));
      Probe p = probe();
      double added = p.mean(p.entries()) - base.mean(base.entries());
      log("growth: %,d entries: puts %,.0f/s (p50 %s), gets %,.0f/s (p50 %s); per node heap %s,"
          + " data dir %s, entries %s; load %.1f", n, puts.opsPerS(), Table.fmt(puts.p50Ns()),
          gets.opsPerS(), Table.fmt(gets.p50Ns()), Table.mibs(p.heap()),
          Table.mibs(p.disk()), Arrays.toString(p.entries()),
          ClosedLoops.loadAverage());
      t.row(String.format(Locale.ROOT, cut ? "%,d (of %,d: time budget)" : "%,d", n, target),
          String.format(Locale.ROOT, "%,.0f%s",
          f.perS(), f.lost() == 0 ? "" : " (" + f.lost() + " lost)"),
          String.format(Locale.ROOT, "%,.0f", puts.opsPerS()),
          Table.fmt(puts.p50Ns()) + " / " + Table.fmt(puts.p99Ns()),
          String.format(Locale.ROOT, "%,.0f", gets.opsPerS()),
          Table.fmt(gets.p50Ns()) + " / " + Table.fmt(gets.p99Ns()),
          range(p.heap()), perEntry(p.mean(p.heap()) - base.mean(base.heap()), added),
          perEntry(p.mean(p.mapBytes()) - base.mean(base.mapBytes()), added), range(p.disk()),
          perEntry(p.mean(p.disk()) - base.mean(base.disk()), added),
          MapReport.failures(List.of(puts, gets)));
      if (cut) {
        break;
      }
    }
    return t.note("Heap: used heap after `jcmd <pid> GC.run`, read from `GC.heap_info`; per"
        + " entry, the growth of the nodes' mean over the first measurement (before any growth"
        + " entry), divided by the entries added per node (each node holds every entry)."
        + " Data dir: the bytes of the node's files, write-ahead log segments (64 MiB,"
        + " preallocated) included, so it grows in steps. \"/status map bytes\": what Keel"
        + " counts against the memory budget (key, value and a fixed 96 B).");
  }

  private Probe probe() throws Exception {
    int n = MapBenchmark.NODES.size();
    long[] heap = NodeProbe.heapsUsedAfterGc(pids);
    long[] disk = new long[n];
    long[] entries = new long[n];
    long[] bytes = new long[n];
    long budget = 0;
    for (int i = 0; i < n; i++) {
      String node = MapBenchmark.NODES.get(i);
      disk[i] = NodeProbe.dirBytes(cluster.dataDir(node));
      JsonObject map = cluster.node(node).status().getJsonObject("map");
      entries[i] = map.getLong("entries");
      bytes[i] = map.getLong("bytes");
      budget = map.getLong("budget");
    }
    return new Probe(heap, disk, entries, bytes, budget);
  }

  private static String perEntry(double bytes, double entries) {
    return entries <= 0 ? "—" : String.format(Locale.ROOT, "%,.0f B", bytes / entries);
  }

  private static String range(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    return Table.mib(s[0]) + (s[0] == s[s.length - 1] ? "" : "–" + Table.mib(s[s.length - 1]));
  }
}
