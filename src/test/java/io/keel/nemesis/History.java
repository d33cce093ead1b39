package io.keel.nemesis;

import java.util.ArrayList;
import java.util.List;

/**
 * What happened during one nemesis run, on one nanosecond clock: every workload operation
 * (when it was sent, when it ended, how) and every fault (when it was injected and undone, on
 * which nodes). The report's availability and recovery figures come from here.
 */
final class History {
  /** How an operation ended. */
  enum Outcome {
    /** Answered with success. */
    OK,
    /** Answered with a failure: nothing happened (unavailable, wait ran out, conflict). */
    FAIL,
    /** No answer (a timeout, a lost connection): it may or may not have happened. */
    UNKNOWN
  }

  /** One operation of a workload, sent through {@code node}. */
  record Operation(String workload, String node, long startNanos, long endNanos,
      Outcome outcome) {}

  /**
   * One fault: injected at {@code startNanos}, undone at {@code endNanos} (MAX_VALUE: not yet);
   * {@code endsMembership} when the nodes it touched may have left the cluster meanwhile.
   */
  record Window(String fault, List<String> nodes, long startNanos, long endNanos,
      boolean endsMembership) {
    boolean covers(long nanos) {
      return nanos >= startNanos && nanos < endNanos;
    }
  }

  private final List<Operation> operations = new ArrayList<>();
  private final List<Window> windows = new ArrayList<>();

  synchronized void operation(String workload, String node, long startNanos, Outcome outcome) {
    operations.add(new Operation(workload, node, startNanos, System.nanoTime(), outcome));
  }

  synchronized void faultStarted(String fault, List<String> nodes, long startNanos) {
    faultStarted(fault, nodes, startNanos, true);
  }

  synchronized void faultStarted(String fault, List<String> nodes, long startNanos,
      boolean endsMembership) {
    windows.add(new Window(fault, List.copyOf(nodes), startNanos, Long.MAX_VALUE,
        endsMembership));
  }

  synchronized void faultEnded(long endNanos) {
    Window open = windows.get(windows.size() - 1);
    windows.set(windows.size() - 1, new Window(open.fault(), open.nodes(), open.startNanos(),
        endNanos, open.endsMembership()));
  }

  synchronized List<Operation> operations() {
    return List.copyOf(operations);
  }

  synchronized List<Window> windows() {
    return List.copyOf(windows);
  }

  /**
   * The first moment at or after {@code fromNanos} and before {@code untilNanos} when a fault
   * that may end membership touched {@code node} (a fault already on at {@code fromNanos}
   * counts from then), or {@code Long.MAX_VALUE}: from then on the cluster may rightly have
   * ended what the node held for its clients.
   */
  synchronized long firstFaultOn(String node, long fromNanos, long untilNanos) {
    long first = Long.MAX_VALUE;
    for (Window w : windows) {
      if (!w.endsMembership() || !w.nodes().contains(node) || w.endNanos() <= fromNanos
          || w.startNanos() >= untilNanos) {
        continue;
      }
      first = Math.min(first, Math.max(w.startNanos(), fromNanos));
    }
    return first;
  }

  /** Operations of {@code workload} that ended inside the window: how many, how many OK. */
  synchronized long[] during(String workload, Window w) {
    long all = 0;
    long ok = 0;
    for (Operation o : operations) {
      if (o.workload().equals(workload) && w.covers(o.endNanos())) {
        all++;
        if (o.outcome() == Outcome.OK) {
          ok++;
        }
      }
    }
    return new long[] {all, ok};
  }

  /**
   * Milliseconds from the end of {@code w} until the first operation of {@code workload} sent
   * after it succeeded, or -1 if none did.
   */
  synchronized long recoveryMs(String workload, Window w) {
    long first = Long.MAX_VALUE;
    for (Operation o : operations) {
      if (o.workload().equals(workload) && o.outcome() == Outcome.OK
          && o.startNanos() >= w.endNanos()) {
        first = Math.min(first, o.endNanos());
      }
    }
    return first == Long.MAX_VALUE ? -1 : (first - w.endNanos()) / 1_000_000;
  }

  /** Whether an operation of {@code workload} sent at or after {@code nanos} succeeded. */
  synchronized boolean succeededSince(String workload, long nanos) {
    for (Operation o : operations) {
      if (o.workload().equals(workload) && o.outcome() == Outcome.OK && o.startNanos() >= nanos) {
        return true;
      }
    }
    return false;
  }
}
