package io.keel.map;

import io.keel.locks.FencedLock;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * One replicated map, seen from a node: JSON values by key, each with a version that grows on
 * every change. Writes are acknowledged once a majority of the key's replicas logged them; a
 * read is linearizable (it sees every write acknowledged before it started) unless asked for
 * stale. Every method answers a {@link Future} that fails with a Keel failure
 * ({@code io.keel.bus.Failure}): {@code CONFLICT} for a version or fence that does not match,
 * {@code BAD_REQUEST} for a key or value over its limit, {@code UNAVAILABLE} or
 * {@code TIMEOUT} when the key's partition cannot commit (a timed-out write may or may not have
 * happened). Calls go to this node's own map service; the object is a cheap view.
 */
public final class KeelMap {
  private final MapVerticle service;
  private final String name;

  KeelMap(MapVerticle service, String name) {
    this.service = service;
    this.name = name;
  }

  /** This map's name. */
  public String name() {
    return name;
  }

  /** The entry of {@code key} (not {@link MapEntry#found()} when absent), linearizably. */
  public Future<MapEntry> get(String key) {
    return read(key, false);
  }

  /**
   * The entry of {@code key} as this node's own replica has it, when it has one (else as the
   * leader has it): faster, and possibly behind the latest writes.
   */
  public Future<MapEntry> getStale(String key) {
    return read(key, true);
  }

  private Future<MapEntry> read(String key, boolean stale) {
    return service.handle("get", body(key).put("stale", stale))
        .map(r -> new MapEntry(key, r.getValue("value"), r.getLong("version", 0L)));
  }

  /** Sets {@code key} to {@code value}; answers the entry's new version. */
  public Future<Long> put(String key, Object value) {
    return write("put", body(key).put("value", value));
  }

  /**
   * Sets {@code key} to {@code value} under {@code lock}: refused with {@code CONFLICT} when
   * this map accepted a newer token of that lock before (the key's partition keeps the highest
   * token it accepted per lock). Answers the entry's new version.
   */
  public Future<Long> put(String key, Object value, FencedLock lock) {
    return write("put", body(key).put("value", value).put("fence",
        new JsonObject().put("lock", lock.name()).put("token", lock.token())));
  }

  /** Sets {@code key} only if it is absent, else fails with {@code CONFLICT}; the new version. */
  public Future<Long> putIfAbsent(String key, Object value) {
    return compareAndSet(key, 0, value);
  }

  /**
   * Sets {@code key} only if its version is {@code expectVersion} (0: only if absent), else fails
   * with {@code CONFLICT}; answers the new version.
   */
  public Future<Long> compareAndSet(String key, long expectVersion, Object value) {
    return write("put", body(key).put("value", value).put("expectVersion", expectVersion));
  }

  /** Removes {@code key}; answers whether there was an entry. */
  public Future<Boolean> delete(String key) {
    return service.handle("delete", body(key)).map(r -> r.getBoolean("deleted"));
  }

  /**
   * Removes {@code key} only if its version is {@code expectVersion}, else fails with
   * {@code CONFLICT}; answers whether there was an entry.
   */
  public Future<Boolean> delete(String key, long expectVersion) {
    return service.handle("delete", body(key).put("expectVersion", expectVersion))
        .map(r -> r.getBoolean("deleted"));
  }

  private Future<Long> write(String op, JsonObject body) {
    return service.handle(op, body).map(r -> r.getLong("version"));
  }

  private JsonObject body(String key) {
    return new JsonObject().put("map", name).put("key", key);
  }
}
