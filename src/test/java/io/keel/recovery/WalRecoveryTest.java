package io.keel.recovery;

import static io.keel.recovery.WalHarness.FRAME_BYTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery on open, one named test per case of {@link Case} (TigerBeetle's {@code
 * recovery_cases}), plus {@link #every_case_has_a_test()}. Real files, 4 KiB segments.
 */
class WalRecoveryTest {
  /** What can be found on disk at open, and what recovery does about it. */
  enum Case {
    /** Non-zero garbage after the last record of the last segment: cut, bytes reported. */
    TORN_TAIL,
    /** The last record has fewer than 17 bytes (a partial header): cut. */
    PARTIAL_HEADER,
    /** The last record's payload is incomplete: cut. */
    PARTIAL_PAYLOAD,
    /** A record before the last fails its checksum: refuse, naming file and offset. */
    BAD_CHECKSUM_MID_LOG,
    /** The last record fails its checksum: a torn write, cut. */
    BAD_CHECKSUM_LAST_RECORD,
    /** A valid record repeats the previous LSN: refuse. */
    DUPLICATE_SEQUENCE,
    /** A valid record skips LSNs: refuse. */
    SEQUENCE_GAP,
    /** The last segment holds no record (zeros, or no bytes): open; it takes the next LSN. */
    EMPTY_SEGMENT,
    /** An empty segment followed by another: refuse. */
    EMPTY_SEGMENT_MID_LOG,
    /** Records, then the zeros of preallocation: nothing cut, nothing reported. */
    ZERO_FILLED_PREALLOCATION,
    /** Records over several segments, a torn tail in the last: all replayed, the tail cut. */
    MULTI_SEGMENT,
    /** Garbage at the tail of a segment that a segment with records follows: refuse. */
    TORN_TAIL_BEFORE_A_LATER_SEGMENT,
  }

  @TempDir
  Path dir;
  WalHarness h;

  @BeforeEach
  void setUp() throws IOException {
    h = new WalHarness(dir, WalHarness.smallSegments());
  }

  @AfterEach
  void tearDown() throws IOException {
    h.close();
  }

  @Test
  void every_case_has_a_test() {
    List<String> methods = Arrays.stream(getClass().getDeclaredMethods())
        .filter(m -> m.isAnnotationPresent(Test.class)).map(Method::getName).toList();
    for (Case c : Case.values()) {
      assertThat(methods).as("a @Test for %s", c).contains(c.name().toLowerCase(Locale.ROOT));
    }
  }

  @Test
  void torn_tail() throws IOException {
    h.append(5);
    h.corruptTail(40);
    WriteAheadLog.Recovery r = h.reopen();
    assertThat(r.bytesCut()).isEqualTo(40);
    assertThat(r.cutOffset()).isEqualTo(5L * FRAME_BYTES);
    assertThat(h.lsns()).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(h.append(1)).isEqualTo(6);
    assertThat(h.reopen().bytesCut()).isZero();
    assertThat(h.lsns()).hasSize(6);
  }

  @Test
  void partial_header() throws IOException {
    h.append(5);
    h.crash();
    truncate(h.lastFile(), 4L * FRAME_BYTES + 10);
    WriteAheadLog.Recovery r = h.reopen();
    assertThat(r.cutOffset()).isEqualTo(4L * FRAME_BYTES);
    assertThat(r.bytesCut()).isEqualTo(5); // type + length; the LSN's high bytes are zeros
    assertThat(h.lsns()).containsExactly(1L, 2L, 3L, 4L);
  }

  @Test
  void partial_payload() throws IOException {
    h.append(5);
    h.crash();
    truncate(h.lastFile(), 5L * FRAME_BYTES - 1);
    WriteAheadLog.Recovery r = h.reopen();
    assertThat(r.bytesCut()).isEqualTo(FRAME_BYTES - 1);
    assertThat(h.lsns()).containsExactly(1L, 2L, 3L, 4L);
  }

  @Test
  void bad_checksum_mid_log() throws IOException {
    h.append(5);
    h.crash();
    Path file = h.lastFile();
    WalHarness.flipByte(file, 2L * FRAME_BYTES + 50);
    assertThatThrownBy(h::reopen).isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(file.getFileName() + " offset " + 2 * FRAME_BYTES)
        .hasMessageContaining("checksum mismatch")
        .satisfies(e -> assertThat(((WalCorruptionException) e).offset())
            .isEqualTo(2L * FRAME_BYTES));
    assertThat(Files.size(file)).as("a refused log is left as it was").isEqualTo(4096);
  }

  @Test
  void bad_checksum_last_record() throws IOException {
    h.append(5);
    h.crash();
    WalHarness.flipByte(h.lastFile(), 4L * FRAME_BYTES + 50);
    WriteAheadLog.Recovery r = h.reopen();
    assertThat(r.cutOffset()).isEqualTo(4L * FRAME_BYTES);
    assertThat(r.bytesCut()).isEqualTo(FRAME_BYTES);
    assertThat(h.lsns()).containsExactly(1L, 2L, 3L, 4L);
  }

  @Test
  void duplicate_sequence() throws IOException {
    h.append(3);
    h.crash();
    WalHarness.write(h.lastFile(), 3L * FRAME_BYTES, WalHarness.frame(3, WalHarness.payload(3)));
    assertThatThrownBy(h::reopen).isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining("offset " + 3 * FRAME_BYTES)
        .hasMessageContaining("duplicate or decreasing LSN 3 where 4 was expected");
  }

  @Test
  void sequence_gap() throws IOException {
    h.append(3);
    h.crash();
    WalHarness.write(h.lastFile(), 3L * FRAME_BYTES, WalHarness.frame(5, WalHarness.payload(5)));
    assertThatThrownBy(h::reopen).isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining("skipping LSN 5 where 4 was expected");
  }

  @Test
  void empty_segment() throws IOException {
    h.append(3);
    h.crash();
    Files.write(dir.resolve(WalSegment.fileName(4)), new byte[0]);
    WriteAheadLog.Recovery r = h.reopen();
    assertThat(r.segments()).isEqualTo(2);
    assertThat(r.lastLsn()).isEqualTo(3);
    assertThat(h.append(1)).isEqualTo(4);
    assertThat(Files.size(dir.resolve(WalSegment.fileName(4)))).isEqualTo(4096);
    h.reopen();
    assertThat(h.lsns()).containsExactly(1L, 2L, 3L, 4L);
  }

  @Test
  void empty_segment_mid_log() throws IOException {
    h.append(3);
    h.crash();
    Files.write(dir.resolve(WalSegment.fileName(4)), new byte[4096]);
    Files.write(dir.resolve(WalSegment.fileName(5)), WalHarness.frame(5, WalHarness.payload(5)));
    assertThatThrownBy(h::reopen).isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(WalSegment.fileName(4) + " offset 0: empty segment before");
  }

  @Test
  void zero_filled_preallocation() throws IOException {
    h.append(5);
    h.crash();
    assertThat(Files.size(h.lastFile())).isEqualTo(4096);
    WriteAheadLog.Recovery r = h.reopen();
    assertThat(r.cutFile()).isNull();
    assertThat(r.bytesCut()).isZero();
    assertThat(h.lsns()).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  @Test
  void multi_segment() throws IOException {
    h.append(100); // 35 records of 117 B per 4 KiB segment: 3 segments
    h.corruptTail(7);
    WriteAheadLog.Recovery r = h.reopen();
    assertThat(h.files()).hasSize(3);
    assertThat(r.cutFile()).isEqualTo(WalSegment.fileName(71));
    assertThat(r.bytesCut()).isEqualTo(7);
    assertThat(h.lsns()).isEqualTo(LongStream.rangeClosed(1, 100).boxed().toList());
  }

  @Test
  void torn_tail_before_a_later_segment() throws IOException {
    h.append(40);
    h.crash();
    Path first = h.files().get(0);
    WalHarness.write(first, 35L * FRAME_BYTES, new byte[] {9, 9, 9});
    assertThatThrownBy(h::reopen).isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(first.getFileName() + " offset " + 35 * FRAME_BYTES)
        .hasMessageContaining("a valid record follows at " + WalSegment.fileName(36) + " offset 0");
  }

  @Test
  void truncating_the_last_record_at_every_byte_keeps_exactly_the_complete_records()
      throws IOException {
    h.append(5);
    h.crash();
    byte[] log = Files.readAllBytes(h.lastFile());
    int start = 4 * FRAME_BYTES;
    for (int k = 0; k <= FRAME_BYTES; k++) {
      Path d = dir.resolve("cut-" + k);
      Files.createDirectories(d);
      Files.write(d.resolve(WalSegment.fileName(1)), Arrays.copyOf(log, start + k));
      try (WalHarness c = new WalHarness(d, WalHarness.smallSegments())) {
        int lastNonZero = k - 1;
        while (lastNonZero >= 0 && log[start + lastNonZero] == 0) {
          lastNonZero--;
        }
        long expectedCut = k == FRAME_BYTES ? 0 : lastNonZero + 1;
        assertThat(c.wal.recovery().bytesCut()).as("cut at +%d", k).isEqualTo(expectedCut);
        assertThat(c.lsns()).as("cut at +%d", k)
            .isEqualTo(LongStream.rangeClosed(1, k == FRAME_BYTES ? 5 : 4).boxed().toList());
        assertThat(c.append(1)).isEqualTo(k == FRAME_BYTES ? 6 : 5);
      }
    }
  }

  @Test
  void flipping_any_byte_of_a_record_mid_log_refuses_to_open_naming_file_and_offset()
      throws IOException {
    h.append(5);
    h.crash();
    byte[] log = Files.readAllBytes(h.lastFile());
    int start = 2 * FRAME_BYTES;
    for (int k = 0; k < FRAME_BYTES; k++) {
      Path d = dir.resolve("flip-" + k);
      Files.createDirectories(d);
      Path file = d.resolve(WalSegment.fileName(1));
      Files.write(file, log);
      WalHarness.flipByte(file, start + k);
      assertThatThrownBy(() -> new WalHarness(d, WalHarness.smallSegments()).close())
          .as("flip at +%d", k).isInstanceOf(WalCorruptionException.class)
          .hasMessageContaining(WalSegment.fileName(1) + " offset " + start);
    }
  }

  private static void truncate(Path file, long size) throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(file,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
  }
}
