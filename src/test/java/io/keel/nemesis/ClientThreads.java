package io.keel.nemesis;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The client threads of a workload: each runs its loop body until stopped; {@link #stop}
 * waits until every one has finished the operation in progress (each is bounded by the
 * request timeout).
 */
final class ClientThreads {
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Throwable> crashes = new ArrayList<>();

  /** Starts a thread named {@code name} that calls {@code body} until stopped. */
  void start(String name, BooleanSupplier body) {
    Thread t = new Thread(() -> {
      try {
        while (running.get() && body.getAsBoolean()) {
          // one operation per call
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
