package io.keel.locks;

import io.keel.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;

/**
 * The Java API of fenced locks, on any node (client nodes too). It speaks the event-bus
 * contract ({@code keel.lock.*}) as any other program would, naming its node, so that its
 * grants end as soon as the node leaves the cluster.
 *
 * <pre>{@code
 * keel.locks().withLock("orders", new LockOptions().setWaitMs(5_000), lock ->
 *     db.update(row, lock.token()));   // the database keeps a Fence
 * }</pre>
 */
public final class KeelLocks {
  private final Vertx vertx;
  private final String node;
  private final long routeTimeoutMs;

  /**
   * The API of node {@code node} on {@code vertx}, whose requests may take
   * {@code routeTimeoutMs} plus any wait. Its grants end when {@code node} leaves the cluster.
   */
  public KeelLocks(Vertx vertx, String node, long routeTimeoutMs) {
    this.vertx = vertx;
    this.node = node;
    this.routeTimeoutMs = routeTimeoutMs;
  }

  /** Acquires {@code name} with the default options (10 s lease, no wait). */
  public Future<FencedLock> acquire(String name) {
    return acquire(name, new LockOptions());
  }

  /**
   * Acquires {@code name}. Fails with {@code TIMEOUT} when the wait ran out, {@code BAD_REQUEST}
   * for bad options, {@code UNAVAILABLE} when the lock's partition has no majority.
   */
  public Future<FencedLock> acquire(String name, LockOptions options) {
    JsonObject body = new JsonObject().put("name", name).put("leaseMs", options.getLeaseMs())
        .put("waitMs", options.getWaitMs()).put("node", node);
    if (options.getHolder() != null) {
      body.put("holder", options.getHolder());
    }
    if (options.getRequestId() != null) {
      body.put("requestId", options.getRequestId());
    }
    return call(Addresses.LOCK_ACQUIRE, body, Math.max(0, options.getWaitMs()))
        .map(r -> new FencedLock(this, name, r.getLong("token"), r.getString("holder"),
            r.getLong("leaseMs")));
  }

  /**
   * Runs {@code block} while holding {@code name}: acquires it, renews the lease every third of
   * it while the block's future is pending, and releases it when the block completes, fails or
   * throws. Answers the block's result; fails with the block's failure, or with the acquire's.
   */
  public <T> Future<T> withLock(String name, LockOptions options,
      java.util.function.Function<FencedLock, Future<T>> block) {
    return acquire(name, options).compose(lock -> {
      long period = Math.max(1, lock.leaseMs() / 3);
      long timer = vertx.setPeriodic(period, id -> lock.renew());
      Future<T> result;
      try {
        result = block.apply(lock);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      Promise<T> done = Promise.promise();
      result.onComplete(ar -> {
        vertx.cancelTimer(timer);
        lock.release().onComplete(released -> done.handle(ar));
      });
      return done.future();
    });
  }

  /** As {@link #withLock(String, LockOptions, java.util.function.Function)}, token unused. */
  public <T> Future<T> withLock(String name, LockOptions options, Supplier<Future<T>> block) {
    return withLock(name, options, lock -> block.get());
  }

  /** What {@code keel.lock.info} answers for {@code name}. */
  public Future<JsonObject> info(String name) {
    return call(Addresses.LOCK_INFO, new JsonObject().put("name", name), 0);
  }

  /**
   * Asks this node's own lock service: a clustered consumer may be any node's, and a waiting
   * acquire whose entry node died would go unanswered until its timeout.
   */
  Future<JsonObject> call(String address, JsonObject body, long waitMs) {
    return vertx.eventBus().<JsonObject>request(address, body, new DeliveryOptions()
        .setLocalOnly(true).setSendTimeout(routeTimeoutMs + waitMs + 1_000))
        .map(Message::body);
  }
}
