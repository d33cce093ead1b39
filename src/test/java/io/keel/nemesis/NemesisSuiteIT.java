package io.keel.nemesis;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.KeelOptions;
import io.keel.harness.Iptables;
import io.keel.harness.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The full nemesis suite ({@code mvn verify -Pnemesis}, see the README): every nemesis, each
 * on a fresh three-node cluster for {@code keel.nemesis.minutes} (5 by default) with every
 * workload running, faults of {@code keel.nemesis.faultSeconds} (10) repeated with
 * {@code keel.nemesis.calmSeconds} (5) between them; before them, the control, the same mutex
 * through Vert.x's {@code SharedData} lock under the partition nemesis ({@link ControlMutex}). The
 * report goes to {@code target/nemesis-report.md}; the run fails if any Keel workload saw a
 * violation, or if the control saw none (the nemesis would not have bitten). With
 * {@code keel.nemesis.only} (a regular expression), only the nemeses whose names match run,
 * without the control.
 */
@EnabledIfSystemProperty(named = "keel.nemesis.minutes", matches = "\\d+(\\.\\d+)?")
class NemesisSuiteIT {
  private static final Logger log = LoggerFactory.getLogger(NemesisSuiteIT.class);

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();

  /** One nemesis, the workloads that run under it, and the nodes' options (null: defaults). */
  private record Run(Fault fault, Supplier<List<Workload>> workloads, JsonObject config) {
    Run(Fault fault, Supplier<List<Workload>> workloads) {
      this(fault, workloads, null);
    }
  }

  /**
   * Every nemesis with every workload; for the clock, the mutex with holds nearly as long as
   * the lease, where a lease ended early shows. A jump within the margin must cost nothing. The
   * same jump on nodes without a margin, and one beyond the margin, are not promised against:
   * their runs must show overlapping holds (or the clock nemesis would not bite), and the
   * fencing checks still apply.
   */
  private static List<Run> runs() {
    Supplier<List<Workload>> all = () -> List.of(new MutexWorkload(2),
        new RegisterWorkload(2, 5), new SetWorkload(1));
    List<Run> out = new ArrayList<>();
    for (Fault f : Faults.all(MutexWorkload.LOCK)) {
      out.add(new Run(f, all));
    }
    long margin = KeelOptions.DEFAULT_LOCK_CLOCK_MARGIN_MS;
    out.add(new Run(Faults.clockJump("clock-jump", MutexWorkload.LOCK, margin * 4 / 5),
        () -> List.of(MutexWorkload.longHolds(2), new RegisterWorkload(2, 5),
            new SetWorkload(1))));
    out.add(new Run(Faults.clockJump("clock-jump-no-margin", MutexWorkload.LOCK,
        margin * 4 / 5), () -> List.of(MutexWorkload.longHolds(2).expectingOverlaps()),
        new JsonObject().put("lockClockMarginMs", 0)));
    out.add(new Run(Faults.clockJump("clock-jump-beyond-margin", MutexWorkload.LOCK,
        10 * margin), () -> List.of(MutexWorkload.longHolds(2).expectingOverlaps())));
    return out;
  }

  @Test
  void every_nemesis_with_every_workload() throws Exception {
    Duration each = Duration.ofSeconds(Math.round(
        Double.parseDouble(System.getProperty("keel.nemesis.minutes")) * 60));
    Duration fault = Duration.ofSeconds(Long.getLong("keel.nemesis.faultSeconds", 10));
    Duration calm = Duration.ofSeconds(Long.getLong("keel.nemesis.calmSeconds", 5));
    // Only the nemeses whose names match, and then no control: for rerunning one of them.
    Pattern only = Pattern.compile(System.getProperty("keel.nemesis.only", ".*"));
    boolean everything = System.getProperty("keel.nemesis.only") == null;
    // The control first: a nemesis that does not bite is found before the long part.
    NemesisRun.WorkloadResult control = null;
    if (everything) {
      try (Iptables iptables = new Iptables(); ControlMutex c = new ControlMutex()) {
        control = c.run(iptables, each, fault, calm);
      }
      log.info("control: {}; {} violations", control.summary(), control.violations().size());
    }
    List<NemesisRun.Report> reports = new ArrayList<>();
    List<Run> runs = runs();
    for (int i = 0; i < runs.size(); i++) {
      Fault f = runs.get(i).fault();
      if (!only.matcher(f.name()).matches()) {
        continue;
      }
      Run run = runs.get(i);
      Path logDir = guard.logDir().resolve(f.name());
      List<String> nodeArgs = new ArrayList<>();
      if (run.config() != null) {
        Path config = Files.createDirectories(logDir).resolve("keel.json");
        Files.writeString(config, run.config().encodePrettily());
        nodeArgs.addAll(List.of("--config", config.toString()));
      }
      try (NemesisCluster c = new NemesisCluster(logDir, i + 1, nodeArgs)) {
        NemesisRun.Report r = NemesisRun.run(f.name(), c.env, run.workloads().get(),
            List.of(f), fault, calm, each);
        reports.add(r);
        log.info("nemesis {}:\n{}", f.name(), NemesisRun.markdown(List.of(r)));
      }
    }
    String md = NemesisRun.markdown(reports);
    if (control != null) {
      md += "### control: Vert.x `SharedData` lock, partition nemesis (" + each.toMinutes()
          + " min)\n\n" + control.summary() + "; " + control.operations() + " acquires, "
          + control.ok() + " granted; " + control.violations().size()
          + " violations, the first ones:\n" + control.violations().stream().limit(5)
              .map(v -> "\n- " + v).reduce("", String::concat) + "\n";
    }
    Path out = Path.of(System.getProperty("keel.nemesis.report", "target/nemesis-report.md"));
    Files.writeString(out, md);
    log.info("nemesis report written to {}:\n{}", out.toAbsolutePath(), md);
    assertThat(reports.stream().mapToLong(NemesisRun.Report::violations).sum())
        .as("violations over the whole suite").isZero();
    assertThat(reports).as("runs matching keel.nemesis.only").isNotEmpty();
    if (control != null) {
      assertThat(control.violations()).as("the control's violations").isNotEmpty();
    }
  }
}
