package io.keel.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.recovery.WalCorruptionException;
import io.keel.recovery.WalOptions;
import io.keel.recovery.WalReader;
import io.keel.recovery.WriteAheadLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link LogDamage} on real logs written by {@link WriteAheadLog}, reopened after the damage:
 * a torn record after the last one is cut and every record kept, a flipped byte mid-log stops the
 * open naming the file and the record's start, and the restored byte makes the log whole again.
 */
class LogDamageTest {
  private static final int TYPE = 9;
  private static final long SEEDS = 20;

  @TempDir
  Path tmp;

  static LongStream seeds() {
    return LongStream.range(1, SEEDS + 1);
  }

  /** Small segments, so that the records span several of them. */
  private static WalOptions small() {
    return new WalOptions().setSegmentBytesMax(4096).setRecordBytesMax(1024);
  }

  /**
   * Writes {@code n} records of random sizes (some empty, some ending in zeros) into
   * {@code dataDir}'s log, and returns their payloads by LSN - 1.
   */
  private static List<byte[]> write(Path dataDir, WalOptions options, int n, SplittableRandom r)
      throws Exception {
    List<byte[]> payloads = new ArrayList<>();
    try (WriteAheadLog wal = WriteAheadLog.open(LogDamage.logDir(dataDir), options)) {
      for (int i = 0; i < n; i++) {
        byte[] p = new byte[r.nextInt(8) == 0 ? 0 : r.nextInt(1, 300)];
        for (int j = 0; j < p.length / 2; j++) {
          p[j] = (byte) r.nextInt(256);
        }
        payloads.add(p);
        assertThat(wal.append(TYPE, p).get(10, TimeUnit.SECONDS)).isEqualTo(i + 1);
      }
    }
    return payloads;
  }

  /** Opens the log, checks it holds exactly {@code expected} (LSN 1 first), closes it. */
  private static WriteAheadLog.Recovery reopen(Path dataDir, WalOptions options,
      List<byte[]> expected) throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(LogDamage.logDir(dataDir), options)) {
      assertThat(wal.lastLsn()).as("last LSN").isEqualTo(expected.size());
      List<byte[]> read = new ArrayList<>();
      try (WalReader reader = wal.readFrom(1)) {
        reader.forEachRemaining(rec -> read.add(rec.payload()));
      }
      assertThat(read).hasSameSizeAs(expected);
      for (int i = 0; i < read.size(); i++) {
        assertThat(Arrays.equals(read.get(i), expected.get(i))).as("payload of LSN %d", i + 1)
            .isTrue();
      }
      return wal.recovery();
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void a_torn_next_record_is_cut_and_every_record_kept(long seed) throws Exception {
    Path data = tmp.resolve("data");
    SplittableRandom r = new SplittableRandom(seed);
    int n = r.nextInt(2, 60);
    List<byte[]> payloads = write(data, small(), n, r);
    List<LogDamage.Frame> before = LogDamage.records(data);
    assertThat(before).as("frames found").hasSize(n);
    LogDamage.Tear tear = LogDamage.tearNextRecord(data, new Random(seed));
    List<Path> segments = LogDamage.segments(data);
    assertThat(tear.file()).isEqualTo(segments.get(segments.size() - 1));
    assertThat(tear.lsn()).as("seed %d: %s", seed, tear).isEqualTo(n + 1);
    LogDamage.Frame last = before.get(n - 1);
    if (last.file().equals(tear.file())) {
      assertThat(tear.offset()).isEqualTo(last.offset() + last.length());
    } else {
      assertThat(tear.offset()).isZero();
    }
    assertThat(LogDamage.records(data)).as("seed %d: %s", seed, tear).isEqualTo(before);
    // The check before a node joins passes a torn tail and leaves it for the open to cut.
    byte[] torn = Files.readAllBytes(tear.file());
    WriteAheadLog.check(LogDamage.logDir(data), small());
    assertThat(Files.readAllBytes(tear.file())).isEqualTo(torn);
    WriteAheadLog.Recovery rec = reopen(data, small(), payloads);
    if (tear.length() == 0) {
      assertThat(rec.cutFile()).isNull();
      return;
    }
    assertThat(rec.cutFile()).as("seed %d: %s", seed, tear)
        .isEqualTo(tear.file().getFileName().toString());
    assertThat(rec.cutOffset()).as("seed %d: %s", seed, tear).isEqualTo(tear.offset());
    assertThat(rec.bytesCut()).isBetween(1L, (long) tear.length());
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void a_flipped_byte_mid_log_is_refused_then_restored(long seed) throws Exception {
    Path data = tmp.resolve("data");
    SplittableRandom r = new SplittableRandom(seed);
    int n = r.nextInt(2, 60);
    List<byte[]> payloads = write(data, small(), n, r);
    LogDamage.Flip flip = LogDamage.flipMidLog(data, new Random(seed));
    assertThat(flip.lsn()).as("seed %d: %s", seed, flip).isBetween(1L, n - 1L);
    assertThatThrownBy(() -> WriteAheadLog.open(LogDamage.logDir(data), small()).close())
        .as("seed %d: %s", seed, flip).isInstanceOfSatisfying(WalCorruptionException.class,
            e -> {
              assertThat(e.file()).isEqualTo(flip.file().getFileName().toString());
              assertThat(e.offset()).isEqualTo(flip.offset());
            });
    assertThatThrownBy(() -> WriteAheadLog.check(LogDamage.logDir(data), small()))
        .as("the check before joining").isInstanceOfSatisfying(WalCorruptionException.class,
            e -> assertThat(e.offset()).isEqualTo(flip.offset()));
    LogDamage.restore(flip);
    WriteAheadLog.Recovery rec = reopen(data, small(), payloads);
    assertThat(rec.cutFile()).isNull();
  }

  @Test
  void default_segments_torn_then_corrupt_then_restored() throws Exception {
    Path data = tmp.resolve("data");
    List<byte[]> payloads = write(data, new WalOptions(), 20, new SplittableRandom(7));
    LogDamage.Tear tear = LogDamage.tearNextRecord(data, new Random(7));
    assertThat(reopen(data, new WalOptions(), payloads).cutOffset()).isEqualTo(tear.offset());
    LogDamage.Flip flip = LogDamage.flipMidLog(data, new Random(8));
    assertThatThrownBy(() -> WriteAheadLog.open(LogDamage.logDir(data), new WalOptions()))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(flip.file().getFileName() + " offset " + flip.offset());
    LogDamage.restore(flip);
    assertThat(reopen(data, new WalOptions(), payloads).cutFile()).isNull();
    assertThat(tear.file()).isEqualTo(flip.file());
  }

  @Test
  void an_empty_newest_segment_is_torn_at_its_start() throws Exception {
    Path data = tmp.resolve("data");
    List<byte[]> payloads = write(data, small(), 30, new SplittableRandom(3));
    List<Path> segments = LogDamage.segments(data);
    assertThat(segments).as("rolled over").hasSizeGreaterThan(1);
    // A crash right after the writer created (and zero-filled) the next segment.
    Path empty = LogDamage.logDir(data).resolve(String.format("%020d.wal", 31));
    Files.write(empty, new byte[4096]);
    LogDamage.Tear tear = LogDamage.tearNextRecord(data, new Random(3));
    assertThat(tear.file()).isEqualTo(empty);
    assertThat(tear.offset()).isZero();
    assertThat(tear.lsn()).isEqualTo(31);
    WriteAheadLog.Recovery rec = reopen(data, small(), payloads);
    assertThat(rec.cutFile()).isEqualTo(empty.getFileName().toString());
    assertThat(rec.cutOffset()).isZero();
  }

  @Test
  void restore_refuses_a_byte_changed_since_the_flip() throws Exception {
    Path data = tmp.resolve("data");
    write(data, small(), 5, new SplittableRandom(5));
    LogDamage.Flip flip = LogDamage.flipMidLog(data, new Random(5));
    LogDamage.restore(flip);
    assertThatThrownBy(() -> LogDamage.restore(flip)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("changed after the flip");
  }
}
