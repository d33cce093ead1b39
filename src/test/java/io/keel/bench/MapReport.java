package io.keel.bench;

import io.keel.bench.ClosedLoops.Sample;
import io.keel.bench.MapBenchmark.Contender;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The comparison table of {@link MapBenchmark}: medians over runs, and each against IMap. */
final class MapReport {
  private MapReport() {}

  static Table comparison(MapBenchmark b, List<Contender> contenders, List<Sample> samples) {
    Table t = new Table(String.format(Locale.ROOT, "Keel map vs Hazelcast IMap vs Vert.x"
        + " AsyncMap, one cluster of 3 node JVMs (P = %d), 100 B values, %,d keys; medians of %d"
        + " run(s) of %d s [min–max]", b.common.partitions(), b.common.keys(),
        b.common.runs(), b.common.seconds()),
        "op", "in flight", "system", "durability of an acknowledged put", "ops/s", "p50",
        "p99", "vs IMap: ops/s, p50", "node CPU per op", "failures (all runs)");
    for (String verb : b.verbs) {
      for (int inFlight : b.common.inFlights()) {
        List<Sample> imap = of(samples, verb, inFlight, "imap");
        for (Contender c : contenders) {
          List<Sample> s = of(samples, verb, inFlight, c.id());
          String vs = c.id().equals("imap") ? "1" : imap.isEmpty() ? "" : Table.ratio(
              Table.median(s, Sample::opsPerS), Table.median(imap, Sample::opsPerS)) + ", "
              + Table.ratio(Table.median(s, Sample::p50Ns), Table.median(imap, Sample::p50Ns));
          t.row(verb, inFlight, c.label(), verb.equals("put") ? c.durability() : "",
              Table.rate(s, Sample::opsPerS), Table.latency(s, Sample::p50Ns),
              Table.latency(s, Sample::p99Ns), vs, String.format(Locale.ROOT, "%,.0f µs",
                  Table.median(s, Sample::nodeCpuUsPerOp)), failures(s));
        }
      }
    }
    return t.note("Keel acknowledges a put once 2 of the key's 3 replicas have it fsync'd in"
        + " their write-ahead log; a Keel get is linearizable (the leader answers under its"
        + " lease, or confirms its lead with a majority first). IMap and AsyncMap keep each"
        + " entry in the memory of its owner and of one backup (Hazelcast's default,"
        + " synchronous), nothing on disk; their gets read the owner. \"node CPU per op\": CPU"
        + " time of the three node processes together per answered request, warm-up included.");
  }

  static List<Sample> of(List<Sample> samples, String verb, int inFlight, String system) {
    return samples.stream().filter(s -> s.name().equals(verb) && s.inFlight() == inFlight
        && s.system().equals(system)).toList();
  }

  static String failures(List<Sample> s) {
    Map<String, Long> all = new TreeMap<>();
    s.forEach(x -> x.failures().forEach((k, v) -> all.merge(k, v, Long::sum)));
    return Table.failures(all);
  }
}
