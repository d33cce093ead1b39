package io.keel.bench;

import io.keel.bus.Failure;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;

/**
 * Closed-loop load, the driver every benchmark of this package shares: loops on event-loop
 * contexts of one or more Vert.x instances, each sending its next request when the last one is
 * answered, for a warm-up and then a measured window.
 *
 * <p>A request counts when its answer arrives within the measured window: successes give ops/s
 * and the latency histogram (HdrHistogram, from send to answer), failures are counted by their
 * code ({@link #code}: Keel's {@code Failure}, a bus failure type, or the exception's class),
 * never dropped. Also measured, over the whole case (warm-up included): the CPU time per
 * answered request of the node processes and of this JVM.
 *
 * <p>Answers may arrive on any thread (a Hazelcast callback, a partition group's worker): the
 * loop goes back to its own context before it touches its counters.
 */
final class ClosedLoops {
  static final long LATENCY_NS_MAX = TimeUnit.SECONDS.toNanos(120);

  private ClosedLoops() {}

  /**
   * What a loop sends: the {@code n}-th request (from 0) of loop {@code loop}, with its
   * context's seeded random source; answered or failed. An answer that is a {@link Mark} also
   * records the time from the send to the mark.
   */
  interface Op {
    Future<?> send(int loop, long n, SplittableRandom rnd);
  }

  /** A point inside a request, as {@code System.nanoTime()} (a lock's grant in acquire+release). */
  record Mark(long atNanos) {}

  /**
   * How to load: {@code loops} loops on each Vert.x, spread over {@code contexts} event-loop
   * contexts; {@code warmupS} unrecorded then {@code measuredS} recorded seconds; {@code seed}
   * for the random sources; {@code lateS}, how long after the window to wait for the last
   * answers; {@code nodePids}, the processes whose CPU per request is reported.
   */
  record Load(int loops, int contexts, int warmupS, int measuredS, long seed, long lateS,
      long[] nodePids) {
    Load {
      BenchArgs.require(loops >= 1 && contexts >= 1 && warmupS >= 0 && measuredS >= 0
          && lateS >= 0, "bad load " + loops + " loops, " + contexts + " contexts, "
          + warmupS + " + " + measuredS + " s");
    }
  }

  /**
   * One case of one run: its labels; the successes; latency percentiles from send to answer
   * (and to the {@link Mark}, when the op answers one); failures by code with the first
   * message of each; the load average at the end; CPU per answered request.
   */
  record Sample(String name, String system, int inFlight, int run, long ok, double seconds,
      long p50Ns, long p99Ns, long p999Ns, long maxNs, long markP50Ns, long markP99Ns,
      Map<String, Long> failures, Map<String, String> firstFailure, double loadAverage,
      double nodeCpuUsPerOp, double clientCpuUsPerOp) {
    double opsPerS() {
      return ok / seconds;
    }

    long failed() {
      return failures.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The failures by code, and the first message of each. */
    String failureText() {
      return failures.isEmpty() ? "0" : Table.failures(failures) + " (first of each: "
          + firstFailure + ")";
    }
  }

  /** {@link #drive(String, String, int, List, List, Load)} on one Vert.x. */
  static Sample drive(String name, String system, int run, Vertx vertx, Op op, Load load)
      throws Exception {
    return drive(name, system, run, List.of(vertx), List.of(op), load);
  }

  /**
   * Runs {@code ops.get(i)} on {@code vertxes.get(i)}, {@code load.loops()} loops each (loop
   * numbers 0.. on each Vert.x), and returns what the measured window saw.
   */
  static Sample drive(String name, String system, int run, List<Vertx> vertxes, List<Op> ops,
      Load load) throws Exception {
    long from = System.nanoTime() + TimeUnit.SECONDS.toNanos(load.warmupS());
    long end = from + TimeUnit.SECONDS.toNanos(load.measuredS());
    int instances = Math.min(load.loops(), load.contexts());
    List<Loops> all = new CopyOnWriteArrayList<>();
    List<String> ids = new ArrayList<>();
    long self = ProcessHandle.current().pid();
    long nodeCpu0 = cpuNanos(load.nodePids());
    long clientCpu0 = cpuNanos(new long[] {self});
    AtomicInteger seeds = new AtomicInteger();
    for (int v = 0; v < vertxes.size(); v++) {
      Op op = ops.get(v);
      AtomicInteger index = new AtomicInteger();
      ids.add(vertxes.get(v).deployVerticle(() -> {
        int i = index.getAndIncrement();
        int loops = load.loops();
        int first = loops / instances * i + Math.min(i, loops % instances);
        int count = loops / instances + (i < loops % instances ? 1 : 0);
        Loops l = new Loops(op, first, count, from, end,
            new SplittableRandom(load.seed() * 31 + seeds.getAndIncrement()));
        all.add(l);
        return l;
      }, new DeploymentOptions().setInstances(instances)).await(60, TimeUnit.SECONDS));
    }
    long waitS = load.warmupS() + load.measuredS() + load.lateS() + 60;
    Future.all(all.stream().map(l -> l.done.future()).toList()).await(waitS, TimeUnit.SECONDS);
    long nodeCpu = cpuNanos(load.nodePids()) - nodeCpu0;
    long clientCpu = cpuNanos(new long[] {self}) - clientCpu0;
    for (int v = 0; v < vertxes.size(); v++) {
      vertxes.get(v).undeploy(ids.get(v)).await(60, TimeUnit.SECONDS);
    }
    return sample(name, system, run, all, load, nodeCpu, clientCpu);
  }

  private static Sample sample(String name, String system, int run, List<Loops> all, Load load,
      long nodeCpu, long clientCpu) {
    Histogram h = new Histogram(LATENCY_NS_MAX, 3);
    Histogram marks = new Histogram(LATENCY_NS_MAX, 3);
    Map<String, Long> failures = new TreeMap<>();
    Map<String, String> first = new TreeMap<>();
    long ok = 0;
    long answered = 0;
    for (Loops l : all) {
      h.add(l.latencies);
      marks.add(l.marks);
      ok += l.ok;
      answered += l.answered;
      l.failures.forEach((k, v) -> failures.merge(k, v, Long::sum));
      l.firstFailure.forEach(first::putIfAbsent);
    }
    long perOp = Math.max(1, answered);
    return new Sample(name, system, load.loops(), run, ok, Math.max(1, load.measuredS()),
        h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9),
        h.getMaxValue(), marks.getValueAtPercentile(50), marks.getValueAtPercentile(99),
        failures, first, loadAverage(), nodeCpu / 1e3 / perOp, clientCpu / 1e3 / perOp);
  }

  /**
   * Loops {@code firstLoop..firstLoop+loops-1} on one event-loop context: each sends its next
   * request when the last is answered, until {@code endNanos}. Only this context touches the
   * fields until {@link #done} completes.
   */
  private static final class Loops extends VerticleBase {
    final Promise<Void> done = Promise.promise();
    final Histogram latencies = new Histogram(LATENCY_NS_MAX, 3);
    final Histogram marks = new Histogram(LATENCY_NS_MAX, 3);
    final Map<String, Long> failures = new TreeMap<>();
    final Map<String, String> firstFailure = new TreeMap<>();
    private final Op op;
    private final int firstLoop;
    private final int loops;
    private final long fromNanos;
    private final long endNanos;
    private final SplittableRandom rnd;
    long ok;
    long answered;
    private int running;

    Loops(Op op, int firstLoop, int loops, long fromNanos, long endNanos,
        SplittableRandom rnd) {
      this.op = op;
      this.firstLoop = firstLoop;
      this.loops = loops;
      this.fromNanos = fromNanos;
      this.endNanos = endNanos;
      this.rnd = rnd;
    }

    @Override
    public Future<?> start() {
      running = loops;
      for (int i = 0; i < loops; i++) {
        next(firstLoop + i, 0);
      }
      if (loops == 0) {
        done.complete();
      }
      return Future.succeededFuture();
    }

    private void next(int loop, long n) {
      long t0 = System.nanoTime();
      if (t0 >= endNanos) {
        if (--running == 0) {
          done.complete();
        }
        return;
      }
      Future<?> f;
      try {
        f = op.send(loop, n, rnd);
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      // An answer at once must not recurse, and one on another thread must come back here.
      boolean atOnce = f.isComplete();
      Context mine = context;
      f.onComplete(ar -> {
        long t1 = System.nanoTime();
        if (atOnce || Vertx.currentContext() != mine) {
          mine.runOnContext(v -> answered(loop, n, t0, t1, ar.succeeded() ? ar.result() : null,
              ar.cause()));
        } else {
          answered(loop, n, t0, t1, ar.succeeded() ? ar.result() : null, ar.cause());
        }
      });
    }

    private void answered(int loop, long n, long t0, long t1, Object result, Throwable cause) {
      answered++;
      if (t1 >= fromNanos && t1 <= endNanos) {
        if (cause == null) {
          ok++;
          latencies.recordValue(Math.min(t1 - t0, LATENCY_NS_MAX));
          if (result instanceof Mark m) {
            marks.recordValue(Math.min(Math.max(0, m.atNanos() - t0), LATENCY_NS_MAX));
          }
        } else {
          String code = code(cause);
          failures.merge(code, 1L, Long::sum);
          firstFailure.putIfAbsent(code, String.valueOf(cause.getMessage()));
        }
      }
      next(loop, n + 1);
    }
  }

  /**
   * A failure's code: Keel's {@link Failure} name, else the bus failure type, else the class
   * ({@code NOT_FOUND} for a {@link NoSuchElementException}: a read that found no value).
   */
  static String code(Throwable t) {
    if (t instanceof ReplyException re) {
      switch (re.failureType()) {
        case TIMEOUT:
          return "bus TIMEOUT";
        case NO_HANDLERS:
          return "NO_HANDLERS";
        case RECIPIENT_FAILURE:
          Failure f = Failure.fromCode(re.failureCode());
          return f != null ? f.name() : "RECIPIENT_FAILURE " + re.failureCode();
        default:
          return re.failureType().name();
      }
    }
    return t instanceof NoSuchElementException ? "NOT_FOUND" : t.getClass().getSimpleName();
  }

  /** The CPU time the processes have used so far (0 for one that is gone). */
  static long cpuNanos(long[] pids) {
    long sum = 0;
    for (long pid : pids) {
      sum += ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration())
          .map(Duration::toNanos).orElse(0L);
    }
    return sum;
  }

  /** The CPU share of one core the processes used over {@code ms} of waiting, in percent. */
  static String idleCpu(long[] pids, long ms) throws InterruptedException {
    long self = ProcessHandle.current().pid();
    long nodes0 = cpuNanos(pids);
    long self0 = cpuNanos(new long[] {self});
    long t0 = System.nanoTime();
    Thread.sleep(ms); // a benchmark's own wait: the idle cluster's CPU
    double wall = System.nanoTime() - t0;
    return String.format(java.util.Locale.ROOT, "the nodes use %.0f%% of one core together,"
        + " this JVM %.0f%%; load average %.1f", 100 * (cpuNanos(pids) - nodes0) / wall,
        100 * (cpuNanos(new long[] {self}) - self0) / wall, loadAverage());
  }

  static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /** Milliseconds since {@code t0} ({@code System.nanoTime()}). */
  static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
