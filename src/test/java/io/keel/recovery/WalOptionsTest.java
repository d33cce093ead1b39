package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.recovery.WalOptions.FsyncPolicy;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class WalOptionsTest {
  @Test
  void json_round_trip_keeps_every_option() {
    WalOptions o = new WalOptions().setFsyncPolicy(FsyncPolicy.INTERVAL).setSegmentBytesMax(1 << 20)
        .setRecordBytesMax(4096).setGroupCommitWaitMicrosMax(50).setGroupBatchMax(64)
        .setFsyncIntervalMs(10).setAppendQueueMax(100);
    assertThat(new WalOptions(o.toJson())).isEqualTo(o);
    assertThat(new WalOptions(o)).isEqualTo(o);
    assertThat(new WalOptions(new JsonObject())).isEqualTo(new WalOptions());
    assertThat(new WalOptions().toJson().getString("fsyncPolicy")).isEqualTo("group");
  }

  @Test
  void unknown_keys_and_wrong_types_are_rejected_by_name() {
    assertThatThrownBy(() -> new WalOptions(new JsonObject().put("fsync", "always")))
        .hasMessageContaining("unknown wal option key fsync");
    assertThatThrownBy(() -> new WalOptions(new JsonObject().put("segmentBytesMax", "1")))
        .hasMessageContaining("'segmentBytesMax' must be a whole number");
    assertThatThrownBy(() -> new WalOptions(new JsonObject().put("fsyncPolicy", "never")))
        .hasMessage("fsyncPolicy must be always, group or interval, was never");
  }

  @Test
  void values_out_of_range_are_rejected_with_the_value() {
    assertThatThrownBy(() -> new WalOptions().setSegmentBytesMax(100))
        .hasMessage("segmentBytesMax must be >= 4096, was 100");
    assertThatThrownBy(() -> new WalOptions().setGroupBatchMax(0))
        .hasMessage("groupBatchMax must be >= 1, was 0");
    assertThatThrownBy(() -> new WalOptions(new JsonObject().put("segmentBytesMax", 4096)))
        .hasMessageContaining("must be <= segmentBytesMax (4096)");
  }
}
