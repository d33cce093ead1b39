package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The pure core on buffers: the frame, and the worked example of {@link WalScan}. */
class WalScanTest {
  private static final int SEGMENT = 1 << 20;

  private static ByteBuffer segment(int records) {
    ByteBuffer b = ByteBuffer.allocate(SEGMENT);
    for (int i = 1; i <= records; i++) {
      byte[] p = WalHarness.payload(i);
      WalRecord.encode(b, 1, i, p, 0, p.length);
    }
    return b.clear();
  }

  @Test
  void frame_layout_matches_the_documented_example() {
    ByteBuffer b = ByteBuffer.allocate(19);
    WalRecord.encode(b, 1, 7, "hi".getBytes(), 0, 2);
    assertThat(b.array()).startsWith(1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7);
    assertThat(b.array()).endsWith('h', 'i');
    assertThat(WalRecord.check(b, 0, 19, 10)).isEqualTo(19);
    assertThat(WalRecord.decode(b, 0)).isEqualTo(new WalRecord(7, 1, "hi".getBytes()));
    assertThat(WalRecord.check(b, 0, 18, 10)).isEqualTo(WalRecord.PARTIAL_PAYLOAD);
    assertThat(WalRecord.check(b, 0, 16, 10)).isEqualTo(WalRecord.PARTIAL_HEADER);
    assertThat(WalRecord.check(b, 0, 19, 1)).isEqualTo(WalRecord.BAD_HEADER);
    b.put(18, (byte) 'j');
    assertThat(WalRecord.check(b, 0, 19, 10)).isEqualTo(WalRecord.BAD_CHECKSUM);
  }

  @Test
  void worked_example_torn_fourth_record_is_cut() throws Exception {
    ByteBuffer b = segment(4);
    for (int i = 3 * 117 + 40; i < 4 * 117; i++) {
      b.put(i, (byte) 0); // only 40 bytes of the fourth write reached the disk
    }
    WalScan scan = new WalScan(1024);
    scan.segment(WalSegment.fileName(1), 1, b);
    WalScan.Plan plan = scan.finish();
    assertThat(plan.lastLsn()).isEqualTo(3);
    assertThat(plan.cut()).isEqualTo(new WalScan.Cut(WalSegment.fileName(1), 351, 40,
        "checksum mismatch"));
    assertThat(plan.segments().get(0).end()).isEqualTo(WalScan.End.TORN);
  }

  @Test
  void worked_example_flipped_bit_in_record_two_is_corruption() {
    ByteBuffer b = segment(3);
    b.put(117 + 60, (byte) (b.get(117 + 60) ^ 1));
    WalScan scan = new WalScan(1024);
    assertThatThrownBy(() -> scan.segment(WalSegment.fileName(1), 1, b))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessage("write-ahead log corrupt at 00000000000000000001.wal offset 117: checksum"
            + " mismatch, and a valid record follows at offset 234");
  }

  @Test
  void clean_segments_end_in_zeros_or_exactly() throws Exception {
    WalScan scan = new WalScan(1024);
    scan.segment(WalSegment.fileName(1), 1, segment(2).limit(234));
    ByteBuffer second = ByteBuffer.allocate(SEGMENT);
    for (int i = 3; i <= 4; i++) {
      WalRecord.encode(second, 1, i, WalHarness.payload(i), 0, 100);
    }
    scan.segment(WalSegment.fileName(3), 3, second.clear());
    WalScan.Plan plan = scan.finish();
    assertThat(plan.segments()).extracting(WalScan.Segment::end)
        .containsExactly(WalScan.End.FULL, WalScan.End.ZERO_TAIL);
    assertThat(plan.cut()).isNull();
    assertThat(plan.lastLsn()).isEqualTo(4);
  }

  @Test
  void a_segment_out_of_sequence_is_corruption() throws Exception {
    WalScan scan = new WalScan(1024);
    scan.segment(WalSegment.fileName(1), 1, segment(2));
    assertThatThrownBy(() -> scan.segment(WalSegment.fileName(4), 4, ByteBuffer.allocate(10)))
        .hasMessageContaining("segment starts at LSN 4 where 3 was expected");
  }
}
