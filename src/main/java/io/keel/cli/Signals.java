package io.keel.cli;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT handling. A JVM ended by a signal exits with 128+signal after its hooks
 * run; a node asked to stop should leave the cluster and exit 0, so the signals are handled
 * here instead.
 */
final class Signals {
  private Signals() {}

  /** Runs {@code action} once, on the first SIGTERM or SIGINT. */
  static void onTermination(Runnable action) {
    java.util.concurrent.atomic.AtomicBoolean fired = new java.util.concurrent.atomic.AtomicBoolean();
    Runnable once = () -> {
      if (fired.compareAndSet(false, true)) {
        action.run();
      }
    };
    Signal.handle(new Signal("TERM"), s -> once.run());
    Signal.handle(new Signal("INT"), s -> once.run());
  }
}
