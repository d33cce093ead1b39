package io.keel.bench;

import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.bench.FeedReport.Case;
import io.keel.bench.FeedReport.Published;
import io.keel.bus.Addresses;
import io.keel.harness.InJvmCluster;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.openqa.selenium.WebDriverException;

/**
 * The status feed's fan-out to browser subscribers, and {@code GET /status} on a node that owns
 * every partition (a {@code main}: the system under test is a node and a browser).
 *
 * <p>One data node runs in this JVM ({@link InJvmCluster}: 127.0.0.1, free ports, a temporary
 * data directory deleted at the end) with {@code partitions} (271) partitions, so that it owns
 * all of them; the benchmark waits until every one is active. Then:
 *
 * <ol>
 *   <li><b>{@code /status}</b>: {@code status-requests} GETs one at a time, then as many from
 *       {@code status-clients} concurrent clients, each after {@code status-warmup} unrecorded
 *       requests per client ({@link StatusGets}; the clients run in this JVM, beside the
 *       node);
 *   <li><b>feed fan-out</b>: for each rate of {@code rates}, a fresh page in headless Chromium
 *       opens {@code subscribers} WebSockets to {@code /status/feed} ({@link FeedBrowser});
 *       once every socket has its snapshot and the node counts them all, the benchmark
 *       publishes {@code recovery-phase} events (phase {@code bench}, about
 *       {@code payload-bytes} as the node encodes them) on the node's {@link Addresses#EVENTS}
 *       at the rate, {@code warmup-s} unrecorded and then {@code seconds} measured, and waits up
 *       to {@code drain-s} for every open socket to receive the last one. Reported: events
 *       delivered per subscriber and in all, sequence gaps, events never received, the node's
 *       slow-subscriber disconnects ({@code /status} {@code feed.slowDisconnects}), and the
 *       added latency from the event's stamps to the browser's receipt.
 * </ol>
 *
 * <p>Arguments, {@code --name value} or {@code name=value}: {@code partitions} (271),
 * {@code rates} (200,1000,2000,5000 events/s), {@code seconds} (10), {@code warmup-s} (2),
 * {@code drain-s} (15), {@code subscribers} (100), {@code payload-bytes} (200),
 * {@code status-requests} (1000), {@code status-warmup} (200), {@code status-clients} (8),
 * {@code parse} ({@code json}: the page reads each event with {@code JSON.parse}, as the
 * dashboard does; {@code scan}: it finds the few fields it needs in the text, which takes the
 * browser's parsing out of the figures as far as a page can).
 */
public final class FeedBenchmark {
  private static final String NODE = "n1";
  private static final String CLASS_PATH = "target/test-classes:target/classes:$(cat"
      + " target/cp.txt)";

  private final int partitions;
  private final long[] rates;
  private final int seconds;
  private final int warmupS;
  private final int drainS;
  private final int subscribers;
  private final int payloadBytes;
  private final int statusRequests;
  private final int statusWarmup;
  private final int statusClients;
  private final String parse;

  private FeedBenchmark(BenchArgs args) {
    partitions = args.integer("partitions", 271);
    rates = args.longs("rates", "200,1000,2000,5000");
    seconds = args.integer("seconds", 10);
    warmupS = args.integer("warmup-s", 2);
    drainS = args.integer("drain-s", 15);
    subscribers = args.integer("subscribers", 100);
    payloadBytes = args.integer("payload-bytes", 200);
    statusRequests = args.integer("status-requests", 1000);
    statusWarmup = args.integer("status-warmup", 200);
    statusClients = args.integer("status-clients", 8);
    parse = args.string("parse", "json");
    args.requireAllUsed();
    BenchArgs.require(partitions >= 1 && rates.length > 0 && Arrays.stream(rates)
        .allMatch(r -> r >= 1) && seconds >= 1 && warmupS >= 0 && drainS >= 1
        && subscribers >= 1 && statusRequests >= statusClients && statusWarmup >= 0
        && statusClients >= 1 && (parse.equals("json") || parse.equals("scan")),
        "bad arguments: " + args);
  }

  /** Runs the benchmark; prints progress, the markdown tables and the command to rerun it. */
  public static void main(String[] argv) throws Exception {
    BenchArgs.prepareJvm(null);
    System.exit(new FeedBenchmark(BenchArgs.parse(argv)).run());
  }

  private int run() throws Exception {
    log("# Feed benchmark: 1 data node in this JVM, P = %d, %d browser subscribers (events read"
        + " with %s), rates %s events/s, %d s measured after %d s warm-up; /status %,d requests"
        + " (1 and %d clients); %d cores, load average %.1f at start", partitions, subscribers,
        parse.equals("json") ? "JSON.parse" : "a field scan", Arrays.toString(rates), seconds,
        warmupS, statusRequests, statusClients,
        Runtime.getRuntime().availableProcessors(), ClosedLoops.loadAverage());
    long t0 = System.nanoTime();
    try (InJvmCluster cluster = new InJvmCluster(1)) {
      Keel node = cluster.start(NODE, o -> o.setPartitions(partitions));
      InJvmCluster.awaitActive(partitions, node);
      log("node ready, all %d partitions active, in %,d ms", node.groups().partitions().size(),
          ClosedLoops.ms(t0));
      StatusGets gets = new StatusGets(node.httpPort());
      List<StatusGets.Result> status = new ArrayList<>();
      for (int clients : new int[] {1, statusClients}) {
        StatusGets.Result r = gets.run(clients, statusWarmup, statusRequests);
        status.add(r);
        log("/status, %d client(s): %,.0f/s, p50 %s, p99 %s, max %s, %,d bytes", clients,
            r.perS(), Table.fmt(r.latencyNs().getValueAtPercentile(50)),
            Table.fmt(r.latencyNs().getValueAtPercentile(99)),
            Table.fmt(r.latencyNs().getMaxValue()), r.bodyBytesMax());
      }
      List<Case> cases = new ArrayList<>();
      String failure = null;
      try (FeedBrowser browser = FeedBrowser.start()) {
        log("Chromium %s started", browser.version());
        for (long rate : rates) {
          try {
            cases.add(fanOut(node, gets, browser, rate));
          } catch (WebDriverException e) {
            failure = String.format(Locale.ROOT, "At %,d events/s the browser failed, and the"
                + " rates after it were not run: %s", rate,
                String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            log("%s", failure);
            break;
          }
        }
      }
      print(status, cases, failure);
      return failure == null && cases.stream().allMatch(c -> c.received().events() > 0) ? 0 : 1;
    }
  }

  private Case fanOut(Keel node, StatusGets gets, FeedBrowser browser, long rate)
      throws Exception {
    browser.subscribe(node.httpPort(), subscribers, parse.equals("scan"));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .ignoreExceptions().until(() -> FeedBrowser.number(browser.progress().get("snapshots"))
            == subscribers && feed(gets).getInteger("subscribers") == subscribers);
    long slow0 = feed(gets).getLong("slowDisconnects");
    long self = ProcessHandle.current().pid();
    long nodeCpu0 = ClosedLoops.cpuNanos(new long[] {self});
    long browserCpu0 = ClosedLoops.cpuNanos(descendants());
    long c0 = System.nanoTime();
    Published p = publish(node.vertx(), rate);
    long d0 = System.nanoTime();
    boolean drained = true;
    try {
      await().atMost(Duration.ofSeconds(drainS)).pollInterval(Duration.ofMillis(50))
          .until(() -> FeedBrowser.number(browser.progress().get("measuredMin")) >= p.measured());
    } catch (ConditionTimeoutException e) {
      drained = false;
    }
    long drainMs = ClosedLoops.ms(d0);
    double wall = System.nanoTime() - c0;
    double nodeCpu = (ClosedLoops.cpuNanos(new long[] {self}) - nodeCpu0) / wall;
    double browserCpu = (ClosedLoops.cpuNanos(descendants()) - browserCpu0) / wall;
    FeedBrowser.Received r = browser.report();
    Case c = new Case(p, r, feed(gets).getLong("slowDisconnects") - slow0, drainMs,
        drained, nodeCpu, browserCpu, ClosedLoops.loadAverage());
    log("%s", FeedReport.line(c, drainS));
    if (r.negative() > 0) {
      log("NOTE: %,d receipt time(s) before their stamp: the browser's and the JVM's clocks"
          + " disagree", r.negative());
    }
    return c;
  }

  /**
   * Publishes {@code rate} events a second on the node's event bus, from a thread of its own (so
   * that a busy event loop does not slow the publisher down), by the clock: each 1 ms tick
   * sends those due, so a late tick catches up. The first {@code warmup-s} worth carry
   * {@code m: 0}, the {@code seconds} worth after them {@code m: 1}.
   */
  private Published publish(Vertx vertx, long rate) throws Exception {
    long warmup = rate * warmupS;
    long total = warmup + rate * seconds;
    String pad = "x".repeat(Math.max(0, payloadBytes - event(0, "").put("seq", 1_000_000L)
        .put("time", System.currentTimeMillis()).encode().length()));
    CompletableFuture<Published> done = new CompletableFuture<>();
    long[] state = new long[3]; // sent, first measured and last measured publish (nanoTime)
    ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
    try {
      long t0 = System.nanoTime();
      ticks.scheduleAtFixedRate(() -> {
        try {
          long due = Math.min(total, (System.nanoTime() - t0) * rate / 1_000_000_000L);
          while (state[0] < due) {
            long now = System.nanoTime();
            state[1] = state[0] == warmup ? now : state[1];
            state[2] = now;
            vertx.eventBus().publish(Addresses.EVENTS, event(state[0] >= warmup ? 1 : 0, pad));
            state[0]++;
          }
          if (state[0] == total) {
            done.complete(new Published(rate, warmup, total - warmup, state[2] - state[1]));
          }
        } catch (RuntimeException | Error e) {
          // A scheduled task that throws stops silently: report it instead of timing out.
          done.completeExceptionally(e);
          throw e;
        }
      }, 0, 1, TimeUnit.MILLISECONDS);
      return done.get(warmupS + seconds + 120L, TimeUnit.SECONDS);
    } finally {
      ticks.shutdownNow();
    }
  }

  private static JsonObject event(int measured, String pad) {
    Instant now = Instant.now();
    return new JsonObject().put("type", "recovery-phase").put("node", NODE).put("phase", "bench")
        .put("m", measured).put("sentUs", now.getEpochSecond() * 1_000_000 + now.getNano() / 1000)
        .put("pad", pad);
  }

  private static JsonObject feed(StatusGets gets) throws Exception {
    return new JsonObject(Buffer.buffer(gets.once())).getJsonObject("feed");
  }

  private static long[] descendants() {
    return ProcessHandle.current().descendants().mapToLong(ProcessHandle::pid).toArray();
  }

  private void print(List<StatusGets.Result> status, List<Case> cases, String failure) {
    System.out.printf(Locale.ROOT, "%n# Results (load average %.1f at the end)%n",
        ClosedLoops.loadAverage());
    FeedReport.status(partitions, status).print();
    FeedReport.feed(String.format(Locale.ROOT, "Feed fan-out to %d subscribers in headless"
        + " Chromium (events read with %s), %d s per rate", subscribers,
        parse.equals("json") ? "`JSON.parse`" : "a field scan", seconds), cases, drainS,
        failure).print();
    System.out.println("Rerun (after mvn -q -B test-compile dependency:build-classpath"
        + " -Dmdep.outputFile=target/cp.txt):\n\njava -cp \"" + CLASS_PATH + "\""
        + " io.keel.bench.FeedBenchmark " + rerunArgs());
  }

  private String rerunArgs() {
    return String.format(Locale.ROOT, "--partitions %d --rates %s --seconds %d --warmup-s %d"
        + " --drain-s %d --subscribers %d --payload-bytes %d --status-requests %d"
        + " --status-warmup %d --status-clients %d --parse %s", partitions,
        Arrays.stream(rates).mapToObj(Long::toString).collect(Collectors.joining(",")),
        seconds, warmupS, drainS, subscribers, payloadBytes, statusRequests, statusWarmup,
        statusClients, parse);
  }

  private static void log(String format, Object... a) {
    System.out.printf(Locale.ROOT, format + "%n", a);
  }
}
