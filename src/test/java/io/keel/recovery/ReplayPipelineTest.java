package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplayPipelineTest {
  private static WalRecord record(long lsn) {
    return new WalRecord(lsn, 1, new byte[] {(byte) lsn});
  }

  @Test
  void handsOverEveryRecordInOrderAcrossBatches() {
    List<Long> seen = new ArrayList<>();
    int n = ReplayPipeline.BATCH * (ReplayPipeline.BATCHES_AHEAD + 3) + 17;
    try (ReplayPipeline p = new ReplayPipeline(r -> seen.add(r.lsn()))) {
      for (long lsn = 1; lsn <= n; lsn++) {
        p.accept(record(lsn));
      }
      p.finish();
    }
    assertThat(seen).hasSize(n);
    for (int i = 0; i < n; i++) {
      assertThat(seen.get(i)).isEqualTo(i + 1L);
    }
  }

  @Test
  void aFailureStopsTheTargetAndComesBackFromFinishOrTheNextBatch() {
    long bad = ReplayPipeline.BATCH + 5;
    List<Long> seen = replayUntilThrown(bad,
        new IllegalStateException("record " + bad + " is broken"));
    // Nothing after the failing record reached the target.
    assertThat(seen).hasSize((int) bad - 1);
    assertThat(seen.get(seen.size() - 1)).isEqualTo(bad - 1);
  }

  @Test
  void anErrorInTheTargetIsNotLostAndStopsItToo() {
    long bad = 3L * ReplayPipeline.BATCH + 1;
    List<Long> seen = replayUntilThrown(bad,
        new AssertionError("record " + bad + " broke the target"));
    assertThat(seen).hasSize((int) bad - 1);
  }

  /**
   * Replays 20 batches into a target that throws {@code boom} at record {@code bad}; checks that
   * the replay throws that very {@code boom}, and returns the records the target took.
   */
  private static List<Long> replayUntilThrown(long bad, Throwable boom) {
    List<Long> seen = new ArrayList<>();
    ReplayPipeline p = new ReplayPipeline(r -> {
      if (r.lsn() == bad) {
        rethrow(boom);
      }
      seen.add(r.lsn());
    });
    try (p) {
      assertThatThrownBy(() -> {
        for (long lsn = 1; lsn <= 20L * ReplayPipeline.BATCH; lsn++) {
          p.accept(record(lsn));
        }
        p.finish();
      }).isSameAs(boom);
    }
    return seen;
  }

  private static void rethrow(Throwable t) {
    if (t instanceof RuntimeException e) {
      throw e;
    }
    throw (Error) t;
  }

  @Test
  void finishWithoutRecordsDoesNothing() {
    try (ReplayPipeline p = new ReplayPipeline(r -> {
      throw new AssertionError("no record was given");
    })) {
      p.finish();
    }
  }
}
