package io.keel.nemesis;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client threads of a workload: each runs its loop body, one operation per call, until
 * stopped; {@link #stop} waits until every one has finished the operation in progress (each is
 * bounded by the request timeout).
 */
final class ClientThreads {
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Throwable> crashes = new ArrayList<>();

  /** A client bound to one node: makes the loop body of client {@code name} on {@code node}. */
  @FunctionalInterface
  interface Client {
    Runnable body(String node, String name, NodeHttp http);
  }

  /**
   * Starts {@code perNode} clients bound to each node of {@code env}, named
   * {@code <node>-<tag><i>}, their bodies made in node order.
   */
  void startPerNode(NemesisEnv env, int perNode, String tag, Client client) {
    for (String node : env.nodes) {
      for (int i = 0; i < perNode; i++) {
        String name = node + "-" + tag + i;
        start(name, client.body(node, name, env.http(node)));
      }
    }
  }

  /** Starts a thread named {@code name} that runs {@code body} until stopped. */
  void start(String name, Runnable body) {
    Thread t = new Thread(() -> {
      try {
        while (running.get()) {
          body.run();
        }
      } catch (Throwable e) {
        synchronized (crashes) {
          crashes.add(e);
        }
      }
    }, name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  boolean running() {
    return running.get();
  }

  void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(NemesisEnv.REQUEST_TIMEOUT.multipliedBy(4).toMillis());
      if (t.isAlive()) {
        throw new IllegalStateException("client thread " + t.getName() + " did not stop");
      }
    }
  }

  /** Exceptions that ended a client loop: each is a bug of the workload, reported as such. */
  List<String> crashes() {
    synchronized (crashes) {
      return crashes.stream().map(e -> "a client crashed: " + e).toList();
    }
  }
}
