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
 * The worker contexts a data node's partition groups run on: their stores wait for fsync, which
 * no event loop may do. Deploy them before, and beside, the {@link RecoveryVerticle} that uses
 * them, never as its children: Vert.x undeploys a verticle's children before stopping it, and
 * the groups must still run while they terminate. {@code Keel} undeploys in reverse order.
 */
public final class GroupHosts {
  /** How many contexts: partition {@code p} runs on context {@code p % COUNT}. */
  public static final int COUNT = 4;

  private final List<Context> contexts = new CopyOnWriteArrayList<>();

  /**
   * Deploys the contexts, as {@link #COUNT} instances of one worker verticle on a worker pool of
   * their own ({@code keel-raft}, one thread each): their blocking fsync waits never take the
   * threads that {@code executeBlocking} elsewhere in the node needs.
   */
  public Future<String> deploy(Vertx vertx) {
    return vertx.deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        contexts.add(context);
        return Future.succeededFuture();
      }
    }, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER).setInstances(COUNT)
        .setWorkerPoolName("keel-raft").setWorkerPoolSize(COUNT));
  }

  /** The deployed contexts. */
  List<Context> contexts() {
    return List.copyOf(contexts);
  }
}
