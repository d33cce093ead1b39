package io.keel.nemesis;

import io.keel.nemesis.History.Window;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One nemesis run: workloads run throughout while faults are injected one after another, each
 * for a fixed time, then undone, then left to recover. At the end the cluster is whole again,
 * the workloads stop and each checks its history.
 *
 * <p>Fault and calm periods are fixed lengths of time: the time a fault lasts is what is under
 * test, not a wait for a condition. After each fault, the run waits (a condition) until every
 * workload has had an operation succeed again, so that the next fault starts from a serving
 * cluster, and reports how long that took.
 */
final class NemesisRun {
  private static final Logger log = LoggerFactory.getLogger(NemesisRun.class);
  /** How long the cluster may take to serve again after a fault, and to settle at the end. */
  static final Duration SETTLE = Duration.ofSeconds(120);

  /** What one workload saw and what its check found. */
  record WorkloadResult(String workload, String summary, long operations, long ok,
      List<String> violations) {}

  /** One fault's window, with each workload's availability during it and recovery after. */
  record FaultResult(String fault, List<String> nodes, long durationMs,
      Map<String, String> availability, Map<String, Long> recoveryMs) {}

  /** The whole run. */
  record Report(String name, long durationMs, List<FaultResult> faults,
      List<WorkloadResult> workloads) {
    long violations() {
      return workloads.stream().mapToLong(w -> w.violations().size()).sum();
    }
  }

  private NemesisRun() {}

  /**
   * Runs {@code workloads} for about {@code total}, injecting {@code faults} in turn (again from
   * the first when they run out, and each at least once), each for {@code faultFor}, with
   * {@code calmFor} between them.
   */
  static Report run(String name, NemesisEnv env, List<Workload> workloads, List<Fault> faults,
      Duration faultFor, Duration calmFor, Duration total) throws Exception {
    long start = System.nanoTime();
    long end = start + total.toNanos();
    workloads.forEach(w -> w.start(env));
    try {
      awaitServing(env, workloads, start);
      for (int i = 0; i < faults.size() || System.nanoTime() < end; i++) {
        Fault f = faults.get(i % faults.size());
        long from = System.nanoTime();
        List<String> nodes = f.inject(env);
        env.history.faultStarted(f.name(), nodes, from, f.endsMembership());
        log.info("{}: fault {} on {}", name, f.name(), nodes);
        pause(faultFor);
        f.undo(env);
        long healed = System.nanoTime();
        env.history.faultEnded(healed);
        log.info("{}: fault {} undone", name, f.name());
        awaitServing(env, workloads, healed);
        pause(calmFor);
      }
      env.net.heal();
      env.cluster.awaitAgreement(env.nodes, SETTLE);
    } finally {
      env.net.heal();
      for (Workload w : workloads) {
        w.stop();
      }
    }
    List<WorkloadResult> results = new ArrayList<>();
    for (Workload w : workloads) {
      List<String> violations = w.check(env);
      long ops = env.history.operations().stream()
          .filter(o -> o.workload().equals(w.name())).count();
      long ok = env.history.operations().stream().filter(o -> o.workload().equals(w.name())
          && o.outcome() == History.Outcome.OK).count();
      results.add(new WorkloadResult(w.name(), w.summary(), ops, ok, violations));
    }
    List<FaultResult> faultResults = new ArrayList<>();
    for (Window win : env.history.windows()) {
      Map<String, String> availability = new LinkedHashMap<>();
      Map<String, Long> recovery = new LinkedHashMap<>();
      for (Workload w : workloads) {
        long[] d = env.history.during(w.name(), win);
        availability.put(w.name(), d[0] == 0 ? "no operation ended"
            : String.format(Locale.ROOT, "%.0f%% of %d", 100.0 * d[1] / d[0], d[0]));
        recovery.put(w.name(), env.history.recoveryMs(w.name(), win));
      }
      faultResults.add(new FaultResult(win.fault(), win.nodes(),
          (win.endNanos() - win.startNanos()) / 1_000_000, availability, recovery));
    }
    return new Report(name, (System.nanoTime() - start) / 1_000_000, faultResults, results);
  }

  /** Waits until every workload has had an operation sent after {@code since} succeed. */
  private static void awaitServing(NemesisEnv env, List<Workload> workloads, long since) {
    for (Workload w : workloads) {
      try {
        Awaitility.await(w.name() + " serving again").atMost(SETTLE)
            .pollInterval(Duration.ofMillis(50))
            .until(() -> env.history.succeededSince(w.name(), since));
      } catch (ConditionTimeoutException e) {
        throw new AssertionError(w.name() + " did not serve again within " + SETTLE + "\n"
            + env.describe(MutexWorkload.LOCK), e);
      }
    }
  }

  /**
   * Reads {@code path} (a map entry) through any node until one answers 200 or 404; fails with
   * the last answers and every node's view of the key's partition when none does in time.
   */
  static JsonObject finalRead(NemesisEnv env, String key, String path) {
    String[] last = {"no answer yet"};
    try {
      return Awaitility.await("final read of " + key).atMost(SETTLE)
          .pollInterval(Duration.ofMillis(200)).until(() -> {
            for (String n : env.nodes) {
              try {
                NodeHttp.Answer a = env.http(n).get(path);
                if (a.ok() || a.status() == 404) {
                  return a.body();
                }
                last[0] = n + ": HTTP " + a.status() + " " + a.message();
              } catch (IOException e) {
                last[0] = n + ": " + e;
              }
            }
            return null;
          }, r -> r != null);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("no node answered a read of " + key + " within " + SETTLE
          + "; last answer " + last[0] + "\n" + env.describe(key), e);
    }
  }

  /** A fixed period of fault or calm: this is the length of time under test. */
  static void pause(Duration d) {
    long until = System.nanoTime() + d.toNanos();
    for (long left = d.toNanos(); left > 0; left = until - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }

  /** The report as Markdown. */
  static String markdown(List<Report> reports) {
    StringBuilder b = new StringBuilder();
    for (Report r : reports) {
      b.append(String.format(Locale.ROOT, "### %s (%.1f min, %d violations)%n%n", r.name(),
          r.durationMs() / 60_000.0, r.violations()));
      b.append("| workload | operations | succeeded | violations | what happened |\n");
      b.append("|---|---|---|---|---|\n");
      for (WorkloadResult w : r.workloads()) {
        b.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %d | %s |%n", w.workload(),
            w.operations(), w.ok(), w.violations().size(), w.summary()));
      }
      b.append("\n| fault | nodes | lasted | availability during it | recovery after it |\n");
      b.append("|---|---|---|---|---|\n");
      for (FaultResult f : r.faults()) {
        b.append(String.format(Locale.ROOT, "| %s | %s | %.1f s | %s | %s |%n", f.fault(),
            String.join(", ", f.nodes()), f.durationMs() / 1000.0, f.availability(),
            f.recoveryMs()));
      }
      for (WorkloadResult w : r.workloads()) {
        for (String v : w.violations()) {
          b.append("\n- **").append(w.workload()).append("**: ").append(v);
        }
      }
      b.append("\n\n");
    }
    return b.toString();
  }
}
