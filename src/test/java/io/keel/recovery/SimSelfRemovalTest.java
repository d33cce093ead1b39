package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A membership seed where a follower applies the entry that removes it with a commit index
 * beyond the next snapshot point: MicroRaft 0.7 then spins for ever in {@code applyLogEntries}
 * (found as seed 7012, which hit the 60 s timeout of a 10,000-seed run while disks still synced
 * on every flush; then seed 1068 showed it, seed 1070 since replicas keep from campaigning
 * while they owe a leader their vote, seed 1088 since leaders' appends leave early, and seed
 * 1070 again since leaders drop empty appends that only tell of a commit). With
 * {@link SelfRemoval} the seed completes and its checks pass, and the remedy is seen to fire.
 */
class SimSelfRemovalTest {

  @BeforeAll
  static void quiet() {
    SimRun.quietRaftLogs();
  }

  @Test
  void a_follower_that_applies_its_own_removal_stops_applying() {
    String summary = SimRun.run(1070, SimRun.DEFAULT_STEPS, false, true);
    Matcher m = Pattern.compile("selfRemovalStops=(\\d+)").matcher(summary);
    assertThat(m.find()).as(summary).isTrue();
    assertThat(Long.parseLong(m.group(1))).as("apply loops stopped").isPositive();
  }
}
