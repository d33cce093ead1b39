package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class RaftBatchTest {

  @Test
  void messages_and_their_stamps_round_trip() {
    List<RaftBatch.Stamped> sent = List.of(new RaftBatch.Stamped(LeaderLease.NONE, new byte[0]),
        new RaftBatch.Stamped(-42, new byte[] {1, 2, 3}),
        new RaftBatch.Stamped(Long.MAX_VALUE, new byte[] {9}));
    List<RaftBatch.Stamped> got = RaftBatch.decode(RaftBatch.encode(sent));
    assertThat(got).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(got.get(i).stamp()).isEqualTo(sent.get(i).stamp());
      assertThat(got.get(i).message()).isEqualTo(sent.get(i).message());
    }
  }

  @Test
  void a_batch_of_another_format_is_refused_with_a_reason() {
    // The format before stamps: a count, then a length and the bytes of each message.
    byte[] old = ByteBuffer.allocate(9).putInt(1).putInt(1).put((byte) 7).array();
    assertThatThrownBy(() -> RaftBatch.decode(old)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("another Keel version");
  }

  @Test
  void a_cut_batch_is_refused() {
    byte[] whole = RaftBatch.encode(List.of(new RaftBatch.Stamped(1, new byte[] {1, 2, 3})));
    for (int len = 0; len < whole.length; len++) {
      byte[] cut = java.util.Arrays.copyOf(whole, len);
      assertThatThrownBy(() -> RaftBatch.decode(cut)).as("cut at %d", len)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
