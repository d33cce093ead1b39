package io.keel.bench;

import io.keel.bench.ClosedLoops.Sample;
import io.keel.bench.MapJoin.Gap;
import io.keel.bench.MapJoin.Point;
import io.keel.harness.ProcessCluster;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** The table of {@link MapJoin}: the new node's fill, the nodes' pauses, the writers' gaps. */
final class MapJoinReport {
  private static final long PAUSE_MS_TARGET = 500;

  private final MapBenchmark b;
  private final ProcessCluster cluster;
  private final long entries;
  private final long readyMs;
  private final long settledMs;
  private final List<Point> points;
  private final List<JsonObject> events;
  private final List<Gap> gaps;
  private final Sample writers;
  private final List<String[]> extra;

  MapJoinReport(MapBenchmark b, ProcessCluster cluster, long entries, long readyMs,
      long settledMs, List<Point> points, List<JsonObject> events, List<Gap> gaps,
      Sample writers, List<String[]> extra) {
    this.b = b;
    this.cluster = cluster;
    this.entries = entries;
    this.readyMs = readyMs;
    this.settledMs = settledMs;
    this.points = points;
    this.events = events;
    this.gaps = gaps;
    this.writers = writers;
    this.extra = extra;
  }

  Table table() {
    Table t = new Table(String.format(Locale.ROOT, "A fourth node joins three holding %,d map"
        + " entries each (P = %d), with %d writers running", entries, b.common.partitions(),
        MapJoin.WRITERS), "measure", "value");
    t.row("n4: start → `/health/ready` 200", readyMs < 0 ? "not seen" : ms(readyMs));
    t.row("n4: start → every partition has 3 active replicas on the nodes its table lists",
        settledMs < 0 ? "**not within " + b.common.settleS() + " s**" : ms(settledMs));
    fill(t);
    extra.forEach(r -> t.row((Object[]) r));
    pauses(t);
    writerGaps(t);
    return t.note("Data moved: the new node's own `/status` map entries and bytes (Keel's"
        + " budget accounting: key + value + 96 B), sampled every 500 ms, from the first sample"
        + " with entries to the first with its final count; \"read by n4\": its process's"
        + " rchar (files and sockets) over the same span. Pauses: each `leader-moved` event"
        + " (the leader's time from asking for the transfer to its end). Writers: each puts to"
        + " one key of its own partition, one put at a time; a gap is the time between two"
        + " successful puts of that writer.");
  }

  private void fill(Table t) {
    Point first = points.stream().filter(p -> p.entries() > 0).findFirst().orElse(null);
    Point last = points.isEmpty() ? null : points.get(points.size() - 1);
    if (first == null) {
      t.row("entries copied to n4", "none seen");
      return;
    }
    Point full = points.stream().filter(p -> p.entries() == last.entries()).findFirst()
        .orElseThrow();
    int i = points.indexOf(first);
    Point before = i > 0 ? points.get(i - 1) : first;
    double s = Math.max(0.5, (full.ms() - before.ms()) / 1000.0);
    t.row("entries copied to n4 (its replicas' entries at the end)", String.format(Locale.ROOT,
        "%,d (%.0f%% of a node's), first seen %s after start, all by %s", last.entries(),
        100.0 * last.entries() / Math.max(1, entries), ms(first.ms()), ms(full.ms())));
    t.row("copy rate", String.format(Locale.ROOT, "%,.0f entries/s; %s/s of map bytes; %s/s"
        + " read by n4", last.entries() / s, Table.bytes(full.mapBytes() / s),
        before.readBytes() < 0 ? "?" : Table.bytes((full.readBytes() - before.readBytes()) / s)));
    t.row("n4 data dir at the end", Table.mib(last.dirBytes()));
  }

  private void pauses(Table t) {
    List<JsonObject> moved = of("leader-moved");
    double[] pauses = moved.stream().mapToDouble(e -> e.getLong("pauseMs", 0L)).toArray();
    double max = java.util.Arrays.stream(pauses).max().orElse(Double.NaN);
    long failed = moved.stream().filter(e -> !e.getBoolean("ok", true)).count();
    t.row("leader hand-overs during the join (`leader-moved`)", String.format(Locale.ROOT,
        "%d (%d not ok); pauseMs median %s, max %s — target ≤ %d ms: %s", moved.size(), failed,
        ms(Table.medianOf(pauses)), ms(max), PAUSE_MS_TARGET, Double.isNaN(max) ? "not measured"
            : max <= PAUSE_MS_TARGET ? "met" : "**not met**"));
    List<JsonObject> added = of("replica-added");
    double[] copy = added.stream().filter(e -> e.getValue("copyMs") != null)
        .mapToDouble(e -> e.getLong("copyMs")).toArray();
    t.row("replicas added during the join (`replica-added`)", String.format(Locale.ROOT,
        "%d; copyMs median %s, max %s", added.size(), ms(Table.medianOf(copy)),
        ms(java.util.Arrays.stream(copy).max().orElse(Double.NaN))));
    List<String> moves = new ArrayList<>();
    for (String n : List.of("n1", "n2", "n3", "n4")) {
      try {
        JsonObject m = cluster.node(n).status().getJsonObject("recovery")
            .getJsonObject("moves");
        moves.add(n + " " + m.getLong("handoffs") + " / " + m.getLong("pauseMsMax") + " ms");
      } catch (RuntimeException e) {
        moves.add(n + " ?");
      }
    }
    t.row("`/status` recovery.moves per node: handoffs / pauseMsMax (since the node started)",
        String.join("; ", moves));
  }

  private void writerGaps(Table t) {
    Set<Integer> movedParts = of("leader-moved").stream().map(e -> e.getInteger("partition"))
        .collect(Collectors.toCollection(TreeSet::new));
    t.row("writers over the whole window (" + b.joinWindowS + " s, join at "
        + b.joinBaselineS + " s)", String.format(Locale.ROOT, "%,.0f puts/s; p50 %s, p99 %s,"
        + " max %s; failures %s", writers.opsPerS(), Table.fmt(writers.p50Ns()),
        Table.fmt(writers.p99Ns()), Table.fmt(writers.maxNs()),
        Table.failures(writers.failures())));
    Gap worst = gaps.stream().max(Comparator.comparingLong(Gap::duringNs)).orElseThrow();
    t.row("longest gap between successful puts of one partition, during the join",
        String.format(Locale.ROOT, "%s (partition %d, %s, ended %s after the join began)",
            Table.fmt(worst.duringNs()), worst.partition(), movedParts.contains(worst.partition())
                ? "its leader moved" : "its leader did not move", ms(worst.endNs() / 1e6)));
    for (boolean moved : List.of(true, false)) {
      List<Gap> g = gaps.stream().filter(x -> movedParts.contains(x.partition()) == moved)
          .toList();
      t.row("… partitions whose leader " + (moved ? "moved" : "did not move") + " ("
          + g.size() + " of " + gaps.size() + "): longest gap median / max", g.isEmpty() ? "—"
          : Table.latency(g, Gap::duringNs) + " / " + Table.fmt(g.stream()
              .mapToLong(Gap::duringNs).max().orElse(0)));
    }
    t.row("the three longest of partitions whose leader did not move: partition, gap, its end"
        + " after the join began", gaps.stream().filter(x -> !movedParts.contains(x.partition()))
        .sorted(Comparator.comparingLong(Gap::duringNs).reversed()).limit(3)
        .map(x -> x.partition() + ", " + Table.fmt(x.duringNs()) + ", " + ms(x.endNs() / 1e6))
        .collect(Collectors.joining("; ")));
    t.row("longest gap of any writer before the join (baseline)", Table.fmt(gaps.stream()
        .mapToLong(Gap::beforeNs).max().orElse(0)));
  }

  private List<JsonObject> of(String type) {
    return events.stream().filter(e -> type.equals(e.getString("type"))).toList();
  }

  private static String ms(double ms) {
    return Double.isNaN(ms) ? "—" : String.format(Locale.ROOT, "%,.0f ms", ms);
  }
}
