package io.keel.bench;

import static io.keel.bench.Table.fmt;
import static io.keel.bench.Table.median;
import static io.keel.bench.Table.medianOf;
import static io.keel.bench.Table.rate;
import static io.keel.bench.Table.ratio;

import io.keel.bench.LockBenchmark.Sample;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** The markdown tables of {@link LockBenchmark}: medians over runs, and the targets. */
final class LockReport {
  private static final String[][] CASES = {
      {"a", "(a) uncontended, 1 in flight"},
      {"b", "(b) 64 names in flight"},
      {"c", "(c) 1,024 names in flight"}};

  private final List<Sample> samples;
  private final List<LockFailover.Result> kills;
  private final int seconds;
  private final int runs;
  private final long leaseMs;

  LockReport(List<Sample> samples, List<LockFailover.Result> kills, int seconds, int runs,
      long leaseMs) {
    this.samples = samples;
    this.kills = kills;
    this.seconds = seconds;
    this.runs = runs;
    this.leaseMs = leaseMs;
  }

  void print() {
    System.out.printf(Locale.ROOT, "%n## Keel fenced lock vs Vert.x clustered lock, 3 node JVMs,"
        + " medians of %d run(s) of %d s (min–max over runs in brackets)%n%n", runs, seconds);
    System.out.println("| case | measure | Keel, Java API | Keel, `keel.lock.*` to any node"
        + " | Vert.x | Keel / Vert.x (API; bus) |");
    System.out.println("|---|---|---|---|---|---|");
    for (String[] c : CASES) {
      List<Sample> k = of(c[0], "keel");
      List<Sample> b = of(c[0], "keel-bus");
      List<Sample> v = of(c[0], "vertx");
      row(c[1], "acquire+release/s", rate(k, Sample::opsPerS), rate(b, Sample::opsPerS),
          rate(v, Sample::opsPerS), ratios(k, b, v, Sample::opsPerS));
      row("", "acquire+release p50 / p99", latencies(k, false), latencies(b, false),
          latencies(v, false), ratios(k, b, v, s -> s.p50Ns()) + " (p50)");
      row("", "acquire p50 / p99", latencies(k, true), latencies(b, true), latencies(v, true),
          ratios(k, b, v, s -> s.acquireP50Ns()) + " (p50)");
      row("", "failed cycles (all runs)", failed(k), failed(b), failed(v), "");
    }
    List<Sample> k = of("d", "keel");
    List<Sample> b = of("d", "keel-bus");
    List<Sample> v = of("d", "vertx");
    row("(d) 1 name, 3 members, 1 loop each", "hand-overs/s", rate(k, Sample::handOversPerS),
        rate(b, Sample::handOversPerS), rate(v, Sample::handOversPerS),
        ratios(k, b, v, Sample::handOversPerS));
    row("", "grants/s", rate(k, Sample::opsPerS), rate(b, Sample::opsPerS),
        rate(v, Sample::opsPerS), ratios(k, b, v, Sample::opsPerS));
    row("", "acquire (wait) p50 / p99", latencies(k, true), latencies(b, true),
        latencies(v, true), "");
    row("", "two holders seen at once (all runs)", sum(k), sum(b), sum(v), "");
    row("", "failed cycles (all runs)", failed(k), failed(b), failed(v), "");
    List<Sample> rtt = of("e", "floor rtt");
    List<Sample> fsync = of("e", "fsync");
    double floorNs = 2 * (median(rtt, s -> s.p50Ns()) + median(fsync, s -> s.p50Ns()));
    row("(e) floor", "event-bus round trip to a node p50 / p99", latencies(rtt, false), "", "",
        "");
    row("", "fsync (4 KiB write + force) p50 / p99", latencies(fsync, false), "", "", "");
    row("", "2 × (round trip p50 + fsync p50)", fmt((long) floorNs), "", "", "");
    for (String ref : List.of("ref1", "ref64")) {
      List<Sample> r = of(ref, "counter add");
      if (!r.isEmpty()) {
        row("(ref) `keel.counter.add`, " + ref.substring(3) + " in flight",
            "adds/s; p50 / p99", "", rate(r, Sample::opsPerS) + "; " + latencies(r, false), "",
            "");
      }
    }
    for (String scenario : kills.stream().map(x -> x.scenario() + ", " + x.leaseMs()
        + " ms lease").distinct().toList()) {
      List<LockFailover.Result> r = kills.stream().filter(x -> scenario.equals(x.scenario()
          + ", " + x.leaseMs() + " ms lease")).toList();
      double km = medianOf(r.stream().mapToDouble(LockFailover.Result::keelMs).toArray());
      double vm = medianOf(r.stream().mapToDouble(LockFailover.Result::vertxMs).toArray());
      row("(f) " + scenario, "kill → waiter granted",
          msList(r.stream().mapToDouble(LockFailover.Result::keelMs).toArray()), "",
          Double.isNaN(vm) ? "not measured" : msList(r.stream()
              .mapToDouble(LockFailover.Result::vertxMs).toArray()),
          Double.isNaN(vm) ? "" : ratio(km, vm));
    }
    targets(floorNs);
  }

  private void targets(double floorNs) {
    System.out.printf("%n## Targets (medians)%n%n| target | measured | met |%n|---|---|---|%n");
    double b = median(of("b", "keel"), Sample::opsPerS);
    target("≥ 24,500 acquire+release/s with 64 names in flight", b, String.format(Locale.ROOT,
        "%,.0f/s", b), b >= 24_500);
    double kd = median(of("d", "keel"), Sample::handOversPerS);
    double vd = median(of("d", "vertx"), Sample::handOversPerS);
    target("contended hand-overs/s ≥ Vert.x lock's", kd + vd, String.format(Locale.ROOT,
        "%,.0f/s vs %,.0f/s", kd, vd), kd >= vd);
    double acquire = median(of("a", "keel"), s -> s.acquireP50Ns());
    double cycle = median(of("a", "keel"), s -> s.p50Ns());
    String floor = Double.isNaN(floorNs) ? "?" : fmt((long) floorNs);
    target("uncontended p50 ≤ 2 × (round trip + fsync) = " + floor, acquire + floorNs,
        "acquire " + fmt((long) acquire), acquire <= floorNs);
    target("(same, reading p50 as the acquire+release pair)", cycle + floorNs,
        "acquire+release " + fmt((long) cycle), cycle <= floorNs);
    for (String scenario : kills.stream().filter(x -> x.leaseMs() == leaseMs)
        .map(LockFailover.Result::scenario).distinct().toList()) {
      double km = medianOf(kills.stream().filter(x -> x.leaseMs() == leaseMs
          && x.scenario().equals(scenario)).mapToDouble(LockFailover.Result::keelMs).toArray());
      target("available ≤ 3 s after a holder JVM is killed (" + scenario + ")", km,
          String.format(Locale.ROOT, "%,.0f ms", km), km <= 3_000);
    }
  }

  /** A row; {@code needed} is NaN when a figure it needs was not measured. */
  private static void target(String what, double needed, String measured, boolean met) {
    System.out.printf("| %s | %s | %s |%n", what, Double.isNaN(needed) ? "not measured"
        : measured, Double.isNaN(needed) ? "—" : met ? "yes" : "**no**");
  }

  private List<Sample> of(String kase, String system) {
    return samples.stream().filter(s -> s.kase().equals(kase) && s.system().equals(system))
        .toList();
  }

  private static void row(String kase, String measure, String keel, String keelBus,
      String vertx, String ratio) {
    System.out.printf("| %s | %s | %s | %s | %s | %s |%n", kase, measure, keel, keelBus, vertx,
        ratio);
  }

  /** Keel's medians over Vert.x's, through the API and over the bus ("—" where unmeasured). */
  private static String ratios(List<Sample> keel, List<Sample> bus, List<Sample> vertx,
      ToDoubleFunction<Sample> f) {
    double v = median(vertx, f);
    return (keel.isEmpty() ? "—" : ratio(median(keel, f), v)) + "; "
        + (bus.isEmpty() ? "—" : ratio(median(bus, f), v));
  }

  private static String latencies(List<Sample> s, boolean acquire) {
    if (s.isEmpty()) {
      return "—";
    }
    return fmt((long) median(s, x -> acquire ? x.acquireP50Ns() : x.p50Ns())) + " / "
        + fmt((long) median(s, x -> acquire ? x.acquireP99Ns() : x.p99Ns()));
  }

  private static String failed(List<Sample> s) {
    long n = s.stream().mapToLong(Sample::failed).sum();
    return n == 0 ? "0" : n + ": " + s.stream().filter(x -> x.failed() > 0).findFirst()
        .map(Sample::failures).orElse("");
  }

  private static String sum(List<Sample> s) {
    return Long.toString(s.stream().mapToLong(Sample::overlaps).sum());
  }

  private static String msList(double[] v) {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%,.0f ms", medianOf(v)));
    b.append(" [");
    for (int i = 0; i < v.length; i++) {
      b.append(i == 0 ? "" : ", ").append(Double.isNaN(v[i]) ? "failed"
          : String.format(Locale.ROOT, "%,.0f", v[i]));
    }
    return b.append("]").toString();
  }
}
