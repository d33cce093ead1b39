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
 * java -cp target/keel.jar:target/test-classes io.keel.examples.EmbeddedApp app1 5711 5711
 * java -cp target/keel.jar:target/test-classes io.keel.examples.EmbeddedApp app2 5712 5711
 * </pre>
 * Arguments: node name, this node's cluster port, the cluster port of a node to join. Each
 * instance greets a few names every two seconds; each greeting comes from the name's primary.
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
          vertx.setPeriodic(2_000, id -> java.util.List.of("world", "vert.x", "keel")
              .forEach(this::greet));
          return k.routing().register("greeter", r -> Future.succeededFuture(new JsonObject()
              .put("greeting", "hello " + r.key() + " from " + k.nodeName())));
        });
  }

  private void greet(String name) {
    keel.routing().request("greeter", name, new JsonObject())
        .onSuccess(reply -> System.out.println(reply.getString("greeting")))
        .onFailure(t -> System.out.println("greeting " + name + " failed: " + t.getMessage()));
  }

  @Override
  public Future<?> stop() {
    return keel == null ? Future.succeededFuture() : keel.close();
  }

  /** Builds the clustered Vert.x the way an application would, then deploys the verticle. */
  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: EmbeddedApp <name> <cluster-port> <join-port>");
      System.exit(2);
    }
    int port = Integer.parseInt(args[1]);
    KeelOptions options = Keel.resolveName(new KeelOptions().setName(args[0])
        .setDataDir("target/examples/" + args[0]).setClusterName("embedded-demo")
        .setClusterPort(port).setJoin(java.util.List.of("127.0.0.1:" + args[2],
            "127.0.0.1:" + port)).setHttpPort(port + 1000));
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
