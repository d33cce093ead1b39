package io.keel.nemesis;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.harness.NodeProcess;
import io.keel.harness.PartitionCheck;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nemesis of the test command, on three node processes on distinct loopback addresses.
 * First what a partition must do ({@link PartitionCheck}): a node cut off is dropped by the
 * others and leads nothing, and comes back after the heal. Then the short nemesis run: the
 * fenced mutex, map registers and a map set while the leader of the lock's partition is cut
 * off, the leader is paused past its leases, and a node is killed and restarted on a log with
 * a torn record after its last (it must cut it). No violation is allowed, and every workload
 * must serve again after every fault. The full suite is {@code NemesisSuiteIT}
 * ({@code mvn verify -Pnemesis}), with the bridge, flapping, the clock and the rest.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class NemesisIT {
  private static final Logger log = LoggerFactory.getLogger(NemesisIT.class);

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();

  @Test
  void no_violation_through_a_partition_a_pause_and_a_torn_log() throws Exception {
    try (NemesisCluster c = new NemesisCluster(guard.logDir(), 1)) {
      PartitionCheck.isolateAndHeal(c.cluster, c.env.net, NemesisCluster.PARTITIONS);
      List<Workload> workloads = List.of(new MutexWorkload(1), new RegisterWorkload(1, 4),
          new SetWorkload(1));
      List<Fault> faults = List.of(Faults.isolateLeader(MutexWorkload.LOCK),
          Faults.pauseLeader(MutexWorkload.LOCK), DiskFaults.tornTail());
      NemesisRun.Report r = NemesisRun.run("short", c.env, workloads, faults,
          Duration.ofSeconds(8), Duration.ofSeconds(2), Duration.ofSeconds(30));
      log.info("nemesis report:\n{}", NemesisRun.markdown(List.of(r)));
      assertThat(r.faults()).as("faults injected").hasSizeGreaterThanOrEqualTo(faults.size());
      for (NemesisRun.WorkloadResult w : r.workloads()) {
        assertThat(w.violations()).as(w.workload()).isEmpty();
        assertThat(w.ok()).as("%s operations that succeeded", w.workload()).isGreaterThan(20);
      }
    }
  }
}
