package io.keel.examples;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.routing.ShardRequest;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A sharded counter service on Keel's routing API. Every node serves the keys whose partition it
 * is the primary of, holding their counts in memory; every node also increments a few keys once
 * a second, from wherever it runs, and prints which node served each.
 *
 * <p>Run two or three, each in its own terminal (see the README):
 * <pre>
 * java -cp target/keel.jar:target/test-classes io.keel.examples.ShardedCounter c1 5801 5801
 * java -cp target/keel.jar:target/test-classes io.keel.examples.ShardedCounter c2 5802 5801
 * </pre>
 * Arguments: node name, this node's cluster port, the cluster port of a node to join.
 *
 * <p>The counts live in the primary's memory only: when a partition moves, its counts restart
 * from zero on the new primary. Keel's replicated map keeps such state across moves and crashes.
 */
public final class ShardedCounter extends VerticleBase {
  static final String SERVICE = "counter";
  private static final List<String> KEYS = List.of("page:home", "page:about", "page:cart");

  private final Keel keel;
  private final Map<String, Long> counts = new HashMap<>();

  ShardedCounter(Keel keel) {
    this.keel = keel;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(1_000, id -> KEYS.forEach(this::increment));
    return keel.routing().register(SERVICE, this::serve);
  }

  /** Runs on the key's primary: the only place its count is kept. */
  private Future<JsonObject> serve(ShardRequest request) {
    long by = request.body().getLong("by", 1L);
    long value = counts.merge(request.key(), by, Long::sum);
    return Future.succeededFuture(new JsonObject().put("key", request.key()).put("value", value)
        .put("servedBy", keel.nodeName()));
  }

  private void increment(String key) {
    keel.routing().request(SERVICE, key, new JsonObject().put("by", 1))
        .onSuccess(r -> System.out.printf("%s: %s = %d (served by %s)%n", keel.nodeName(),
            key, r.getLong("value"), r.getString("servedBy")))
        .onFailure(t -> System.out.printf("%s: %s failed: %s%n", keel.nodeName(), key,
            t.getMessage()));
  }

  /** Starts a node named {@code args[0]} on cluster port {@code args[1]}, joining {@code args[2]}. */
  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println("usage: ShardedCounter <name> <cluster-port> <join-port>");
      System.exit(2);
    }
    int port = Integer.parseInt(args[1]);
    KeelOptions options = new KeelOptions().setName(args[0])
        .setDataDir("target/examples/" + args[0]).setClusterName("counter-demo")
        .setClusterPort(port).setJoin(List.of("127.0.0.1:" + args[2], "127.0.0.1:" + port))
        .setHttpPort(port + 1000);
    Keel.start(options)
        .compose(keel -> keel.vertx().deployVerticle(new ShardedCounter(keel)).map(keel))
        .onSuccess(keel -> System.out.println(keel.nodeName() + " serving counters; dashboard "
            + keel.dashboardUrl()))
        .onFailure(t -> {
          System.err.println("cannot start: " + t.getMessage());
          System.exit(1);
        });
  }
}
