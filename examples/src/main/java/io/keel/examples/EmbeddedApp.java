package io.keel.examples;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.concurrent.TimeUnit;

/**
 * An application that builds its own clustered Vert.x and embeds Keel in one of its verticles:
 * the verticle deploys Keel, registers a sharded "greeter" service and calls it.
 *
 * <pre>
 * java -cp target/keel.jar:target/test-classes io.keel.examples.EmbeddedApp
 * </pre>
 * It joins a node started with {@code java -jar target/keel.jar} when one runs on this machine
 * (cluster "keel", port 5701), and forms a cluster of its own otherwise.
 */
public final class EmbeddedApp extends VerticleBase {
  private final HazelcastClusterManager manager;
  private final KeelOptions options;
  private Keel keel;

  EmbeddedApp(HazelcastClusterManager manager, KeelOptions options) {
    this.manager = manager;
    this.options = options;
  }

  @Override
  public Future<?> start() {
    return Keel.deploy(vertx, manager, options)
        .compose(k -> {
          keel = k;
          return k.routing().register("greeter", r -> Future.succeededFuture(new JsonObject()
              .put("greeting", "hello " + r.key() + " from " + k.nodeName())));
        })
        .compose(v -> keel.routing().request("greeter", "world", new JsonObject()))
        .onSuccess(reply -> System.out.println(reply.getString("greeting")));
  }

  @Override
  public Future<?> stop() {
    return keel == null ? Future.succeededFuture() : keel.close();
  }

  /** Builds the clustered Vert.x the way an application would, then deploys the verticle. */
  public static void main(String[] args) throws Exception {
    KeelOptions options = Keel.resolveName(new KeelOptions()
        .setDataDir("target/examples/embedded").setClusterPort(5710)
        .setJoin(java.util.List.of("127.0.0.1:5701", "127.0.0.1:5710")).setHttpPort(8090));
    HazelcastClusterManager manager = Keel.clusterManager(options);
    Vertx vertx = Vertx.builder().with(Keel.vertxOptions(options)).withClusterManager(manager)
        .buildClustered().await(2, TimeUnit.MINUTES);
    vertx.deployVerticle(new EmbeddedApp(manager, options)).await(2, TimeUnit.MINUTES);
    System.out.println("embedded node " + options.getName() + " running; Ctrl-C to stop");
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        vertx.close().await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("close failed: " + e);
      }
    }));
  }
}
