package io.keel.bench;

import io.keel.bus.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * {@link LockBenchmark}'s case (g): what held locks cost the data nodes. Each node's heap after a
 * full GC ({@code jcmd GC.run}) is read, then {@code count} distinct names are acquired with a
 * lease of an hour, {@code inFlight} at a time, and held while the heaps are read again; then
 * all are released and the heaps read a third time. With 3 replicas on 3 nodes every node holds
 * a replica of every lock, so the growth of a node's heap divided by {@code count} is what one
 * held lock costs one replica.
 */
final class LockGrowth {
  private static final long LEASE_MS = 3_600_000;

  /** The measurement: per node heap after GC, and the rates of acquiring and releasing. */
  record Result(int count, long[] before, long[] held, long[] after, MapOps.Filled acquired,
      MapOps.Filled released) {
    double perLockBytes() {
      return (mean(held) - mean(before)) / count;
    }

    static double mean(long[] v) {
      return Arrays.stream(v).average().orElse(Double.NaN);
    }
  }

  private final Vertx vertx;
  private final String client;
  private final long[] pids;
  private final int count;
  private final int inFlight;

  LockGrowth(Vertx vertx, String client, long[] pids, int count, int inFlight) {
    this.vertx = vertx;
    this.client = client;
    this.pids = pids.clone();
    this.count = count;
    this.inFlight = inFlight;
  }

  Result run() throws Exception {
    String prefix = "g-" + System.nanoTime() + "-";
    long[] before = NodeProbe.heapsUsedAfterGc(pids);
    AtomicLongArray tokens = new AtomicLongArray(count);
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(30_000);
    // The request id makes a retried acquire the same request: answered, not granted twice.
    MapOps.Filled acquired = MapOps.fill(vertx, 0, count, inFlight, i -> prefix + i,
        (name, i) -> vertx.eventBus().<JsonObject>request(Addresses.LOCK_ACQUIRE,
            new JsonObject().put("name", name).put("leaseMs", LEASE_MS).put("waitMs", 0)
                .put("node", client).put("holder", client).put("requestId", name), delivery)
            .map(reply -> {
              tokens.set((int) i, reply.body().getLong("token"));
              return reply;
            }));
    long[] held = NodeProbe.heapsUsedAfterGc(pids);
    MapOps.Filled released = MapOps.fill(vertx, 0, count, inFlight, i -> prefix + i,
        (name, i) -> vertx.eventBus().request(Addresses.LOCK_RELEASE,
            new JsonObject().put("name", name).put("token", tokens.get((int) i)), delivery));
    long[] after = NodeProbe.heapsUsedAfterGc(pids);
    Result r = new Result(count, before, held, after, acquired, released);
    System.out.printf(Locale.ROOT, "(g) %,d locks: acquired at %,.0f/s (%d lost), released at"
        + " %,.0f/s (%d lost); heap after GC per node %s before, %s held, %s released;"
        + " %,.0f B per held lock per node%n", count, acquired.perS(), acquired.lost(),
        released.perS(), released.lost(), Table.mibs(before), Table.mibs(held),
        Table.mibs(after), r.perLockBytes());
    return r;
  }
}
