package io.keel.locks;

import io.keel.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * A granted lock: its fencing token, and the renew and release that name it. Pass the token
 * with every write the lock protects, so that the resource can refuse a stale holder
 * ({@link Fence}). Ownership is by token, not by thread: any code holding this object may renew
 * or release it.
 */
public final class FencedLock {
  private final KeelLocks locks;
  private final String name;
  private final long token;
  private final String holder;
  private volatile long leaseMs;

  FencedLock(KeelLocks locks, String name, long token, String holder, long leaseMs) {
    this.locks = locks;
    this.name = name;
    this.token = token;
    this.holder = holder;
    this.leaseMs = leaseMs;
  }

  /** The lock's name. */
  public String name() {
    return name;
  }

  /** The fencing token: larger than any token granted for this lock before. */
  public long token() {
    return token;
  }

  /** The holder's name. */
  public String holder() {
    return holder;
  }

  /** The lease granted or last renewed, in ms. */
  public long leaseMs() {
    return leaseMs;
  }

  /** Renews the lease for as long as it was; fails with {@code CONFLICT} once it is lost. */
  public Future<Void> renew() {
    return renew(leaseMs);
  }

  /** Renews the lease for {@code leaseMs}; fails with {@code CONFLICT} once it is lost. */
  public Future<Void> renew(long leaseMs) {
    return locks.call(Addresses.LOCK_RENEW, new JsonObject().put("name", name)
        .put("token", token).put("leaseMs", leaseMs), 0).map(reply -> {
          this.leaseMs = reply.getLong("leaseMs");
          return null;
        });
  }

  /** Releases the lock; fails with {@code CONFLICT} when it was lost before. */
  public Future<Void> release() {
    return locks.call(Addresses.LOCK_RELEASE, new JsonObject().put("name", name)
        .put("token", token), 0).mapEmpty();
  }

  @Override
  public String toString() {
    return "FencedLock[" + name + ", token " + token + ", holder " + holder + "]";
  }
}
