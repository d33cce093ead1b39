package io.keel.recovery;

import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The event-loop contexts a data node's partition groups run on. Their stores never wait for
 * fsync ({@link RaftLogStore}, {@link DurableSends}), so the groups can share the node's event
 * loops: a worker thread per context only added thread hand-offs, the main CPU cost of a write
 * on a small machine. Deploy them before, and beside, the {@link RecoveryVerticle} that uses
 * them, never as its children: Vert.x undeploys a verticle's children before stopping it, and
 * the groups must still run while they terminate. {@code Keel} undeploys in reverse order.
 */
public final class GroupHosts {
  /** How many contexts: partition {@code p} runs on context {@code p % COUNT}. */
  public static final int COUNT = 4;

  private final List<Context> contexts = new CopyOnWriteArrayList<>();

  /** Deploys the contexts, as {@link #COUNT} instances of one event-loop verticle. */
  public Future<String> deploy(Vertx vertx) {
    return vertx.deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        contexts.add(context);
        return Future.succeededFuture();
      }
    }, new DeploymentOptions().setThreadingModel(ThreadingModel.EVENT_LOOP).setInstances(COUNT));
  }

  /** The deployed contexts. */
  List<Context> contexts() {
    return List.copyOf(contexts);
  }
}
