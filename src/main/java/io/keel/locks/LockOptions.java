package io.keel.locks;

/**
 * How {@link KeelLocks#acquire} asks for a lock: the lease (default 10 s), how long it may wait
 * (default 0: fail with {@code TIMEOUT} at once when the lock is held), the holder's name
 * (default: the node's name) and the request id that makes a retry safe (default: a new one
 * per call).
 */
public final class LockOptions {
  private long leaseMs = LockService.LEASE_DEFAULT_MS;
  private long waitMs;
  private String holder;
  private String requestId;

  public long getLeaseMs() {
    return leaseMs;
  }

  /** The lease, 1 ms to 1 h; the holder renews it ({@link FencedLock#renew}) or loses it. */
  public LockOptions setLeaseMs(long leaseMs) {
    this.leaseMs = leaseMs;
    return this;
  }

  public long getWaitMs() {
    return waitMs;
  }

  /** How long to wait in the lock's queue, 0 to 10 min. */
  public LockOptions setWaitMs(long waitMs) {
    this.waitMs = waitMs;
    return this;
  }

  public String getHolder() {
    return holder;
  }

  /** A name for the holder, shown by {@code keel.lock.info} and on the status feed. */
  public LockOptions setHolder(String holder) {
    this.holder = holder;
    return this;
  }

  public String getRequestId() {
    return requestId;
  }

  /** The id that makes a retried acquire safe: it is answered, never granted twice. */
  public LockOptions setRequestId(String requestId) {
    this.requestId = requestId;
    return this;
  }
}
