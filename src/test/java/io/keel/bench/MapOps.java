package io.keel.bench;

import com.hazelcast.map.IMap;
import io.keel.bench.ClosedLoops.Op;
import io.keel.bus.Addresses;
import io.keel.map.KeelMap;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The map operations {@link MapBenchmark} loads, one {@link Op} per system and verb, each on a
 * random key of its key set; and {@link #fill}, which writes a key range once.
 *
 * <p>Values are 100 bytes: a 98-character ASCII string, which is 100 bytes as JSON text (Keel
 * stores JSON) and 98 characters in a Hazelcast map. The last 8 characters change with every
 * put, so that no put writes what is already there. A read that finds no value fails with
 * {@code NOT_FOUND}: every read is of a key written before.
 */
final class MapOps {
  static final int VALUE_CHARS = 98;
  private static final String VALUE_HEAD = "v".repeat(VALUE_CHARS - 8);

  private MapOps() {}

  /** The value of the {@code n}-th put. */
  static String value(long n) {
    return VALUE_HEAD + String.format(Locale.ROOT, "%08x", n & 0xffff_ffffL);
  }

  /** A verb of one system: a put or a get of key {@code keys[i]}. */
  interface Verb {
    Future<?> call(String key, long n);
  }

  /** {@code verb} on random keys of {@code keys}. */
  static Op random(String[] keys, Verb verb) {
    return (loop, n, rnd) -> verb.call(keys[rnd.nextInt(keys.length)], n);
  }

  /** Keel's Java API on the node that holds {@code map}. */
  static Verb keelPut(KeelMap map) {
    return (key, n) -> map.put(key, value(n));
  }

  static Verb keelGet(KeelMap map) {
    return (key, n) -> map.get(key).map(e -> found(e.found(), key));
  }

  /**
   * Keel's event-bus API from {@code vertx}: {@code keel.map.put|get} to any node that answers
   * the address (the caller's own included), which routes it to the key's leader.
   */
  static Verb busPut(Vertx vertx, String map, long timeoutMs) {
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(timeoutMs + 5_000);
    return (key, n) -> vertx.eventBus().request(Addresses.MAP_PUT, new JsonObject()
        .put("map", map).put("key", key).put("value", value(n)).put("timeoutMs", timeoutMs),
        delivery);
  }

  static Verb busGet(Vertx vertx, String map, long timeoutMs) {
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(timeoutMs + 5_000);
    return (key, n) -> vertx.eventBus().<JsonObject>request(Addresses.MAP_GET, new JsonObject()
        .put("map", map).put("key", key).put("timeoutMs", timeoutMs), delivery)
        .map(Message::body).map(b -> found(b.getBoolean("found", false), key));
  }

  /** Hazelcast's {@code IMap} (through a Hazelcast client): {@code setAsync}, {@code getAsync}. */
  static Verb imapPut(IMap<String, String> map) {
    return (key, n) -> Future.fromCompletionStage(map.setAsync(key, value(n)));
  }

  static Verb imapGet(IMap<String, String> map) {
    return (key, n) -> Future.fromCompletionStage(map.getAsync(key))
        .map(v -> found(v != null, key));
  }

  /** Vert.x's clustered {@code AsyncMap} (on vertx-hazelcast: an {@code IMap} underneath). */
  static Verb asyncPut(AsyncMap<String, String> map) {
    return (key, n) -> map.put(key, value(n));
  }

  static Verb asyncGet(AsyncMap<String, String> map) {
    return (key, n) -> map.get(key).map(v -> found(v != null, key));
  }

  private static boolean found(boolean found, String key) {
    if (!found) {
      throw new NoSuchElementException("no value for key " + key);
    }
    return true;
  }

  /**
   * What {@link #fill} did: keys written, keys given up after their last attempt, how long it
   * took, and the end of the range it went through (short of the asked one past a deadline).
   */
  record Filled(long written, long lost, long ms, long end) {
    double perS() {
      return written * 1000.0 / Math.max(1, ms);
    }
  }

  /**
   * Puts key {@code key.apply(i)} for every {@code i} in {@code [from, to)} once, {@code inFlight}
   * at a time on one context of {@code vertx}; a failed put is tried again, up to 5 times.
   */
  static Filled fill(Vertx vertx, long from, long to, int inFlight, IntFunction<String> key,
      Verb put) throws Exception {
    return fill(vertx, from, to, inFlight, key, put, Long.MAX_VALUE);
  }

  /**
   * As {@link #fill(Vertx, long, long, int, IntFunction, Verb)}, starting no put after
   * {@code deadlineNanos} ({@code System.nanoTime()}; {@code Long.MAX_VALUE}: none).
   */
  static Filled fill(Vertx vertx, long from, long to, int inFlight, IntFunction<String> key,
      Verb put, long deadlineNanos) throws Exception {
    Context context = vertx.getOrCreateContext();
    Promise<Filled> done = Promise.promise();
    long t0 = System.nanoTime();
    context.runOnContext(v -> new Filler(context, from, to, key, put, done, t0, deadlineNanos)
        .start(inFlight));
    return done.future().await(Math.max(600, (to - from) / 100), TimeUnit.SECONDS);
  }

  /** The state of one {@link #fill}, touched only on its context. */
  private static final class Filler {
    private static final int ATTEMPTS_MAX = 5;
    private final Context context;
    private final long to;
    private final IntFunction<String> key;
    private final Verb put;
    private final Promise<Filled> done;
    private final long t0;
    private final long deadlineNanos;
    private long next;
    private long written;
    private long lost;
    private int running;

    Filler(Context context, long from, long to, IntFunction<String> key, Verb put,
        Promise<Filled> done, long t0, long deadlineNanos) {
      this.context = context;
      this.next = from;
      this.to = to;
      this.key = key;
      this.put = put;
      this.done = done;
      this.t0 = t0;
      this.deadlineNanos = deadlineNanos;
    }

    void start(int inFlight) {
      running = inFlight;
      for (int i = 0; i < inFlight; i++) {
        take();
      }
    }

    private void take() {
      boolean late = deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos > 0;
      if (next >= to || late) {
        if (--running == 0) {
          done.complete(new Filled(written, lost, ClosedLoops.ms(t0), next));
        }
        return;
      }
      send(next++, 1);
    }

    private void send(long i, int attempt) {
      Future<?> f;
      try {
        f = put.call(key.apply(Math.toIntExact(i)), i);
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> context.runOnContext(v -> {
        if (ar.succeeded()) {
          written++;
        } else if (attempt < ATTEMPTS_MAX) {
          send(i, attempt + 1);
          return;
        } else {
          lost++;
        }
        take();
      }));
    }
  }
}
