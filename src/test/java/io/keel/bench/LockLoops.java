package io.keel.bench;

import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Closed-loop lock load on one event-loop context: {@code loops} loops, each starting its next
 * cycle when the last one ends, until {@code endNanos}. A cycle is one acquire and one release
 * (or one request/reply for the floor). Only this context touches the fields until
 * {@link #done} completes.
 *
 * <p>A cycle counts when it ends inside the measured window: successes give the cycle and
 * acquire latency histograms, failures are counted by their code, never dropped.
 */
final class LockLoops extends VerticleBase {
  static final long LATENCY_NS_MAX = TimeUnit.SECONDS.toNanos(120);

  /** One cycle of loop {@code loop} (its {@code n}-th): completes with the grant's nanoTime. */
  interface Cycle {
    Future<Long> run(int loop, long n);
  }

  final Promise<Void> done = Promise.promise();
  final Histogram cycles = new Histogram(LATENCY_NS_MAX, 3);
  final Histogram acquires = new Histogram(LATENCY_NS_MAX, 3);
  final Map<String, Long> failures = new TreeMap<>();
  final Map<String, String> firstFailure = new TreeMap<>();
  private final Cycle cycle;
  private final int firstLoop;
  private final int loops;
  private final long fromNanos;
  private final long endNanos;
  long ok;
  private int running;

  LockLoops(Cycle cycle, int firstLoop, int loops, long fromNanos, long endNanos) {
    this.cycle = cycle;
    this.firstLoop = firstLoop;
    this.loops = loops;
    this.fromNanos = fromNanos;
    this.endNanos = endNanos;
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
    Future<Long> f;
    try {
      f = cycle.run(loop, n);
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    boolean atOnce = f.isComplete();
    f.onComplete(ar -> {
      long t1 = System.nanoTime();
      if (t1 >= fromNanos && t1 <= endNanos) {
        if (ar.succeeded()) {
          ok++;
          cycles.recordValue(Math.min(t1 - t0, LATENCY_NS_MAX));
          acquires.recordValue(Math.min(Math.max(0, ar.result() - t0), LATENCY_NS_MAX));
        } else {
          String code = code(ar.cause());
          failures.merge(code, 1L, Long::sum);
          firstFailure.putIfAbsent(code, String.valueOf(ar.cause().getMessage()));
        }
      }
      // A synchronous answer must not recurse: the next cycle starts later.
      if (atOnce) {
        context.runOnContext(v -> next(loop, n + 1));
      } else {
        next(loop, n + 1);
      }
    });
  }

  // ---- cycles

  /**
   * Keel: {@code keel.lock.acquire {name, leaseMs, waitMs, node, holder}}, then
   * {@code keel.lock.release {name, token}} with the token granted, over the event bus of
   * {@code vertx} (client {@code client}).
   */
  static Cycle keel(Vertx vertx, String client, String[][] names, long waitMs, Grants grants,
      int member) {
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(30_000 + waitMs);
    return (loop, n) -> {
      String name = names[loop][(int) (n % names[loop].length)];
      JsonObject acquire = new JsonObject().put("name", name).put("leaseMs", 10_000)
          .put("waitMs", waitMs).put("node", client).put("holder", client);
      return vertx.eventBus().<JsonObject>request(Addresses.LOCK_ACQUIRE, acquire, delivery)
          .compose(reply -> {
            long granted = System.nanoTime();
            long token = reply.body().getLong("token");
            grants.granted(token, member, granted);
            grants.releasing();
            return vertx.eventBus().<JsonObject>request(Addresses.LOCK_RELEASE,
                new JsonObject().put("name", name).put("token", token), delivery)
                .map(r -> granted);
          });
    };
  }

  /**
   * Vert.x: {@code sharedData().getLockWithTimeout(name, timeout)}, then {@code release()}.
   * Vert.x's release returns nothing: it is handed to a thread pool and not awaited, so the
   * cycle ends when it is handed over.
   */
  static Cycle vertx(Vertx vertx, String[][] names, long timeoutMs, Grants grants, int member) {
    return (loop, n) -> {
      String name = names[loop][(int) (n % names[loop].length)];
      return vertx.sharedData().getLockWithTimeout(name, timeoutMs).map(lock -> {
        long granted = System.nanoTime();
        grants.granted(grants.nextOrder(), member, granted);
        grants.releasing();
        lock.release();
        return granted;
      });
    };
  }

  /** The floor: one request/reply to a data node's {@code keel.ping} shard address. */
  static Cycle ping(Vertx vertx, List<String> addresses, List<List<String>> keys, long epoch) {
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(30_000);
    return (loop, n) -> {
      int node = (int) (n % addresses.size());
      List<String> k = keys.get(node);
      JsonObject body = new JsonObject().put("key", k.get((int) ((n / 3) % k.size())))
          .put("epoch", epoch).put("body", new JsonObject());
      return vertx.eventBus().<JsonObject>request(addresses.get(node), body, delivery)
          .map(Message::body).map(r -> System.nanoTime());
    };
  }

  /** A failure's code: Keel's {@link Failure} name, else the bus failure type, else the class. */
  static String code(Throwable t) {
    if (t instanceof ReplyException) {
      ReplyException re = (ReplyException) t;
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
    return t.getClass().getSimpleName();
  }

  /**
   * The grants of one case, for the contended one: their order (Keel's fencing token, or a
   * counter taken while holding a Vert.x lock), which member got each, and how often two
   * members held the lock at once (as far as this JVM can see: the count of holders goes up at
   * a grant's answer and down just before the release is sent). Thread-safe.
   */
  static final class Grants {
    private final boolean track;
    private final AtomicInteger holding = new AtomicInteger();
    private final AtomicLong overlaps = new AtomicLong();
    private final AtomicLong order = new AtomicLong();
    private final ConcurrentLinkedQueue<long[]> all = new ConcurrentLinkedQueue<>();

    /** Grants that record ({@code track}) or ignore everything. */
    Grants(boolean track) {
      this.track = track;
    }

    long nextOrder() {
      return order.incrementAndGet();
    }

    void granted(long orderKey, int member, long atNanos) {
      if (track) {
        if (holding.incrementAndGet() > 1) {
          overlaps.incrementAndGet();
        }
        all.add(new long[] {orderKey, member, atNanos});
      }
    }

    void releasing() {
      if (track) {
        holding.decrementAndGet();
      }
    }

    long overlaps() {
      return overlaps.get();
    }

    /** {grants, hand-overs to another member} among the grants made in the window. */
    long[] handOvers(long fromNanos, long endNanos) {
      List<long[]> in = new ArrayList<>();
      for (long[] g : all) {
        if (g[2] >= fromNanos && g[2] <= endNanos) {
          in.add(g);
        }
      }
      in.sort(Comparator.comparingLong(g -> g[0]));
      long changes = 0;
      for (int i = 1; i < in.size(); i++) {
        if (in.get(i)[1] != in.get(i - 1)[1]) {
          changes++;
        }
      }
      return new long[] {in.size(), changes};
    }
  }
}
