package io.keel.bench;

import static io.keel.bench.MapBenchmark.log;

import io.keel.bench.ClosedLoops.Sample;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.keel.map.KeelMap;
import io.keel.routing.PartitionTable;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntUnaryOperator;

/**
 * A fourth node joins {@link MapBenchmark}'s three, which hold every entry loaded so far, while
 * {@value #WRITERS} writers keep putting, each to one key of its own partition (partitions
 * spread evenly over P), one put at a time.
 *
 * <p>Measured: how fast the new node fills (its {@code /status} map entries and bytes, its data
 * directory, and the bytes its process read, every 500 ms from its start until every partition
 * has 3 active replicas on the 4 nodes); the write pause of each leadership hand-over, as the
 * nodes report it ({@code leader-moved} events on their {@code /status/feed}, and
 * {@code recovery.moves} in {@code /status}); and, from the client, the longest time between
 * two successful writes of one partition, before the join and during it.
 */
final class MapJoin {
  static final int WRITERS = 64;
  private static final String MAP = "join";
  private static final String NEW_NODE = "n4";

  private final MapBenchmark b;
  private final ProcessCluster cluster;
  private final BenchClient client;

  MapJoin(MapBenchmark b, ProcessCluster cluster, BenchClient client) {
    this.b = b;
    this.cluster = cluster;
    this.client = client;
  }

  /** The new node's fill, sampled: ms since its start, entries, map bytes, dir bytes, rchar. */
  record Point(long ms, long entries, long mapBytes, long dirBytes, long readBytes) {}

  Table run() throws Exception {
    long entries = cluster.node("n1").status().getJsonObject("map").getLong("entries");
    String[] keys = writerKeys(client.keel().routing().table());
    List<StatusFeed> feeds = new ArrayList<>();
    for (String n : MapBenchmark.NODES) {
      feeds.add(StatusFeed.follow(client.vertx(), n, cluster.node(n).httpPort()));
    }
    Gaps gaps = new Gaps(WRITERS);
    KeelMap map = client.keel().map(MAP);
    MapOps.Verb put = MapOps.keelPut(map);
    // Its own thread: the common pool's two threads serve Hazelcast's callbacks.
    ExecutorService driver = Executors.newSingleThreadExecutor();
    Future<Sample> writers = driver.submit(() -> ClosedLoops.drive("join writers", "keel", 0,
        client.vertx(), (loop, i, rnd) -> put.call(keys[loop], i)
            .onSuccess(x -> gaps.ok(loop, System.nanoTime())),
        b.load(WRITERS, 0, b.joinWindowS, 0)));
    driver.shutdown();
    Thread.sleep(b.joinBaselineS * 1000L); // the writers' baseline, before the join
    long t0 = System.nanoTime();
    long t0Ms = System.currentTimeMillis();
    gaps.joinAt = t0;
    log("join: %,d entries per node; %d writers running; starting %s at %s", entries, WRITERS,
        NEW_NODE, java.time.Instant.ofEpochMilli(t0Ms));
    NodeProcess n4 = cluster.node(NEW_NODE).start();
    List<Point> points = new ArrayList<>();
    List<String> all = new ArrayList<>(MapBenchmark.NODES);
    all.add(NEW_NODE);
    long[] readySettled = watch(n4, all, t0, points);
    long readyMs = readySettled[0];
    long settledMs = readySettled[1];
    List<String[]> extra = new ArrayList<>();
    extra.add(new String[] {"old replicas still held (role `leaving`) and map entries, per node,"
        + " when settled", leftover(all)});
    Sample w = writers.get(b.joinWindowS + b.common.timeoutMs() / 1000 + 120, TimeUnit.SECONDS);
    Thread.sleep(10_000); // a last look, some time after the writers stopped
    extra.add(new String[] {"the same " + ClosedLoops.ms(t0) / 1000 + " s after the join began",
        leftover(all)});
    log("join: %s", extra.get(1)[1]);
    // Once the writers are done, so that the gaps after the settling count too.
    extra.add(new String[] {"longest gap between successful puts of one partition that ended"
        + " before it settled (the moves), and after", gaps.longestUntil(settledMs,
            i -> client.keel().routing().table().partitionOf(keys[i]))});
    List<JsonObject> events = new ArrayList<>();
    List<String> health = new ArrayList<>();
    for (StatusFeed f : feeds) {
      events.addAll(f.events("leader-moved", t0Ms));
      events.addAll(f.events("replica-added", t0Ms));
      health.add(f.health());
      f.close();
    }
    extra.add(new String[] {"status feeds followed (n1–n3)", String.join("; ", health)});
    return new MapJoinReport(b, cluster, entries, readyMs, settledMs, points,
        events, gaps.summary(keys, client.keel().routing().table()), w, extra).table();
  }

  /**
   * Samples the new node every 500 ms from its start ({@code t0}) into {@code points} until the
   * cluster of {@code all} has settled ({@link Settled#why}) or {@code settle-s} ran out;
   * answers {ms to ready, ms to settled}, -1 for what did not happen.
   */
  private long[] watch(NodeProcess n4, List<String> all, long t0, List<Point> points)
      throws Exception {
    long readyMs = -1;
    long settledMs = -1;
    String why = "not checked";
    while (ClosedLoops.ms(t0) < b.common.settleS() * 1000) {
      Thread.sleep(500); // sampling period
      try {
        if (readyMs < 0 && n4.healthReady() == 200) {
          readyMs = ClosedLoops.ms(t0);
        }
        JsonObject m = n4.status().getJsonObject("map");
        points.add(new Point(ClosedLoops.ms(t0), m.getLong("entries"), m.getLong("bytes"),
            NodeProbe.dirBytes(cluster.dataDir(NEW_NODE)), NodeProbe.io(n4.pid())[0]));
        why = Settled.why(n -> cluster.node(n).status(), all, 3, false);
        if (why == null) {
          settledMs = ClosedLoops.ms(t0);
          break;
        }
      } catch (RuntimeException e) {
        why = e.toString(); // not serving HTTP yet
      }
    }
    log("join: %s settled %s", NEW_NODE, settledMs < 0 ? "NOT within " + b.common.settleS()
        + " s: " + why : "after " + settledMs + " ms");
    if (settledMs < 0) {
      all.forEach(n -> log("join: not settled, %s", unsettled(n)));
    }
    return new long[] {readyMs, settledMs};
  }

  /** Per node: how many replicas it holds for partitions it left, and its map entries. */
  private String leftover(List<String> nodes) {
    List<String> out = new ArrayList<>();
    for (String n : nodes) {
      try {
        JsonObject s = cluster.node(n).status();
        out.add(String.format(java.util.Locale.ROOT, "%s %d (%s, %,d entries)", n,
            Settled.leaving(s).size(), s.getJsonObject("recovery").getString("phase"),
            s.getJsonObject("map").getLong("entries")));
      } catch (RuntimeException e) {
        out.add(n + " ?");
      }
    }
    return String.join("; ", out);
  }

  /** Node {@code n}'s recovery phase, its partitions' phase counts, and a few that are not done. */
  private String unsettled(String n) {
    try {
      JsonObject s = cluster.node(n).status();
      List<String> odd = new ArrayList<>();
      for (Object o : s.getJsonArray("partitions")) {
        JsonObject p = (JsonObject) o;
        if (!"active".equals(p.getString("phase")) || p.getJsonArray("members").size() != 3
            || "leaving".equals(p.getString("role"))) {
          odd.add(p.encode());
        }
      }
      return n + ": " + s.getJsonObject("recovery").getString("phase") + " "
          + s.getJsonObject("recovery").getJsonObject("phases").encode() + ", "
          + s.getJsonArray("partitions").size() + " partitions, " + odd.size()
          + " not active with 3 members: " + odd.subList(0, Math.min(5, odd.size()));
    } catch (RuntimeException e) {
      return n + ": " + e;
    }
  }

  /** One key per writer, writer {@code w}'s in partition {@code w * P / WRITERS}. */
  private String[] writerKeys(PartitionTable t) {
    String[] keys = new String[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
      int p = w * t.partitionCount() / WRITERS;
      for (int i = 0; keys[w] == null; i++) {
        if (t.partitionOf("j:" + p + ":" + i) == p) {
          keys[w] = "j:" + p + ":" + i;
        }
      }
    }
    return keys;
  }

  /**
   * The times between successful writes of each writer (one partition each), split at the
   * join: a gap that ends after {@link #joinAt} is the join's. Each writer has one put in
   * flight, so its slots are written by one callback at a time.
   */
  static final class Gaps {
    private final AtomicLongArray last;
    private final AtomicLongArray before;
    private final AtomicLongArray during;
    private final AtomicLongArray duringEnd;
    // Every gap after the join of at least NOTED_NS: {writer, end, gap}.
    private final Queue<long[]> noted = new ConcurrentLinkedQueue<>();
    private static final long NOTED_NS = TimeUnit.MILLISECONDS.toNanos(50);
    volatile long joinAt = Long.MAX_VALUE;

    Gaps(int writers) {
      last = new AtomicLongArray(writers);
      before = new AtomicLongArray(writers);
      during = new AtomicLongArray(writers);
      duringEnd = new AtomicLongArray(writers);
    }

    void ok(int w, long now) {
      long prev = last.getAndSet(w, now);
      if (prev == 0) {
        return;
      }
      long gap = now - prev;
      if (now < joinAt) {
        before.accumulateAndGet(w, gap, Math::max);
      } else {
        if (gap >= NOTED_NS) {
          noted.add(new long[] {w, now, gap});
        }
        if (gap > during.get(w)) {
          during.set(w, gap);
          duringEnd.set(w, now);
        }
      }
    }

    /**
     * The longest gap that ended within {@code settledMs} of the join, and the longest after
     * (those of {@link #NOTED_NS} or more), each with its writer and end.
     */
    String longestUntil(long settledMs, IntUnaryOperator partitionOf) {
      long limit = settledMs < 0 ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(settledMs);
      long[] before = null;
      long[] after = null;
      for (long[] g : noted) {
        if (g[1] - joinAt <= limit) {
          before = before == null || g[2] > before[2] ? g : before;
        } else {
          after = after == null || g[2] > after[2] ? g : after;
        }
      }
      return describe(before, partitionOf) + "; after: " + describe(after, partitionOf);
    }

    private String describe(long[] g, IntUnaryOperator partitionOf) {
      return g == null ? "none of 50 ms or more" : String.format(Locale.ROOT,
          "%s (partition %d, ended %,d ms after the join began)", Table.fmt(g[2]),
          partitionOf.applyAsInt((int) g[0]), TimeUnit.NANOSECONDS.toMillis(g[1] - joinAt));
    }

    /** Per writer: its partition, its longest gap before the join and during it (ns). */
    List<Gap> summary(String[] keys, PartitionTable t) {
      List<Gap> out = new ArrayList<>();
      for (int i = 0; i < keys.length; i++) {
        out.add(new Gap(t.partitionOf(keys[i]), before.get(i), during.get(i),
            duringEnd.get(i) == 0 ? -1 : duringEnd.get(i) - joinAt));
      }
      return out;
    }
  }

  /**
   * One writer's partition, its longest time between successful writes before the join and
   * during it, and when the latter ended (ns after the join's start; -1: no write after it).
   */
  record Gap(int partition, long beforeNs, long duringNs, long endNs) {}
}
