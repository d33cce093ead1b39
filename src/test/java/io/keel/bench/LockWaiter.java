package io.keel.bench;

import io.keel.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A Keel waiter for a held lock: one {@code keel.lock.acquire} with a long {@code waitMs} and a
 * fixed {@code requestId}, and, once {@link #retry} is called (after a kill), the same acquire
 * again every {@link #RETRY_MS}: a request that entered through, or waited on, the killed JVM
 * is never answered, and the table answers a known request id from what happened to it (still
 * waiting, or granted), never granting it twice. {@link #granted()} completes with the first
 * grant; {@link #grantedAtNanos()} is when it arrived.
 */
final class LockWaiter {
  static final long RETRY_MS = 100;
  private static final long ATTEMPT_TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final JsonObject acquire;
  private final Promise<JsonObject> granted = Promise.promise();
  private final AtomicLong grantedAt = new AtomicLong();
  private final AtomicLong attempts = new AtomicLong();
  private final AtomicReference<String> lastFailure = new AtomicReference<>();
  private volatile long timer = -1;

  LockWaiter(Vertx vertx, String client, String name, long waitMs, String requestId) {
    this.vertx = vertx;
    this.acquire = new JsonObject().put("name", name).put("leaseMs", 10_000)
        .put("waitMs", waitMs).put("node", client).put("holder", "waiter@" + client)
        .put("requestId", requestId);
  }

  /** Sends the first acquire (it waits up to {@code waitMs}). */
  LockWaiter start() {
    attempt(acquire.getLong("waitMs") + 30_000);
    return this;
  }

  /** Sends the acquire again every {@link #RETRY_MS} until it is granted. */
  void retry() {
    timer = vertx.setPeriodic(RETRY_MS, id -> {
      if (granted.future().isComplete()) {
        vertx.cancelTimer(id);
      } else {
        attempt(ATTEMPT_TIMEOUT_MS);
      }
    });
  }

  private void attempt(long timeoutMs) {
    attempts.incrementAndGet();
    vertx.eventBus().<JsonObject>request(Addresses.LOCK_ACQUIRE, acquire,
        new DeliveryOptions().setSendTimeout(timeoutMs)).map(Message::body).onComplete(ar -> {
          if (ar.succeeded()) {
            if (grantedAt.compareAndSet(0, System.nanoTime())) {
              granted.tryComplete(ar.result());
            }
          } else {
            lastFailure.set(ClosedLoops.code(ar.cause()) + ": " + ar.cause().getMessage());
          }
        });
  }

  Future<JsonObject> granted() {
    return granted.future();
  }

  long grantedAtNanos() {
    return grantedAt.get();
  }

  long attempts() {
    return attempts.get();
  }

  String lastFailure() {
    return lastFailure.get();
  }

  /** Waits for the grant; stops retrying either way. */
  JsonObject await(long seconds) throws Exception {
    try {
      return granted.future().await(seconds, TimeUnit.SECONDS);
    } finally {
      long t = timer;
      if (t >= 0) {
        vertx.cancelTimer(t);
      }
    }
  }
}
