package io.keel.bench;

import io.keel.bench.ClosedLoops.Mark;
import io.keel.bench.ClosedLoops.Op;
import io.keel.bus.Addresses;
import io.keel.locks.KeelLocks;
import io.keel.locks.LockOptions;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What {@link LockBenchmark}'s closed loops ({@link ClosedLoops}) send: one lock cycle, an
 * acquire and a release, answering a {@link Mark} at the grant (or one request/reply for the
 * floor); and {@link Grants}, which records the grants of the contended case.
 */
final class LockCycles {
  private LockCycles() {}

  /**
   * Keel through its Java API on client node {@code client}: {@code locks.acquire(name,
   * {leaseMs, waitMs, holder})}, then {@code lock.release()}, both answered once committed. The
   * API asks its own node's lock service, which sends the request to the leader of the lock's
   * partition (batched with the node's other routed requests).
   */
  static Op keelApi(KeelLocks locks, String client, String[][] names, long waitMs, Grants grants,
      int member) {
    return (loop, n, rnd) -> {
      String name = names[loop][(int) (n % names[loop].length)];
      LockOptions options = new LockOptions().setLeaseMs(10_000).setWaitMs(waitMs)
          .setHolder(client);
      return locks.acquire(name, options).compose(lock -> {
        long granted = System.nanoTime();
        grants.granted(lock.token(), member, granted);
        grants.releasing();
        return lock.release().map(r -> new Mark(granted));
      });
    };
  }

  /**
   * Keel over the event bus: {@code keel.lock.acquire {name, leaseMs, waitMs, node, holder}},
   * then
   * {@code keel.lock.release {name, token}} with the token granted, over the clustered event bus
   * of {@code vertx} (client {@code client}): each request enters at whichever node's consumer
   * the event bus picks, which sends it on to the leader.
   */
  static Op keelBus(Vertx vertx, String client, String[][] names, long waitMs, Grants grants,
      int member) {
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(30_000 + waitMs);
    return (loop, n, rnd) -> {
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
                .map(r -> new Mark(granted));
          });
    };
  }

  /**
   * Vert.x: {@code sharedData().getLockWithTimeout(name, timeout)}, then {@code release()}.
   * Vert.x's release returns nothing: it is handed to a thread pool and not awaited, so the
   * cycle ends when it is handed over.
   */
  static Op vertx(Vertx vertx, String[][] names, long timeoutMs, Grants grants, int member) {
    return (loop, n, rnd) -> {
      String name = names[loop][(int) (n % names[loop].length)];
      return vertx.sharedData().getLockWithTimeout(name, timeoutMs).map(lock -> {
        long granted = System.nanoTime();
        grants.granted(grants.nextOrder(), member, granted);
        grants.releasing();
        lock.release();
        return new Mark(granted);
      });
    };
  }

  /** The floor: one request/reply to a data node's {@code keel.ping} shard address. */
  static Op ping(Vertx vertx, List<String> addresses, List<List<String>> keys, long epoch) {
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(30_000);
    return (loop, n, rnd) -> {
      int node = (int) (n % addresses.size());
      List<String> k = keys.get(node);
      JsonObject body = new JsonObject().put("key", k.get((int) ((n / 3) % k.size())))
          .put("epoch", epoch).put("body", new JsonObject());
      return vertx.eventBus().<JsonObject>request(addresses.get(node), body, delivery)
          .map(r -> new Mark(System.nanoTime()));
    };
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
