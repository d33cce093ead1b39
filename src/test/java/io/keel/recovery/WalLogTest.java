package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.keel.recovery.WalOptions.FsyncPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log's write path: group commit, policies, rollover, deletion, truncation, replay. */
class WalLogTest {
  @TempDir
  Path dir;

  @Test
  void group_commit_with_64_appenders_keeps_every_acknowledged_record_in_order() throws Exception {
    int threads = 64;
    int perThread = 100;
    Map<Long, String> acked = new ConcurrentHashMap<>();
    try (WalHarness h = new WalHarness(dir, new WalOptions().setSegmentBytesMax(64 << 10)
        .setRecordBytesMax(1024))) {
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> appenders = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        Thread th = new Thread(() -> {
          try {
            go.await();
            for (int i = 0; i < perThread; i++) {
              String s = id + ":" + i;
              long lsn = h.wal.append(7, s.getBytes()).get(10, TimeUnit.SECONDS);
              assertThat(acked.put(lsn, s)).as("LSN %d given twice", lsn).isNull();
            }
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
        th.start();
        appenders.add(th);
      }
      go.countDown();
      for (Thread th : appenders) {
        th.join(15_000);
      }
      assertThat(acked).hasSize(threads * perThread);
      assertThat(h.wal.commitForces()).as("forces shared by appenders")
          .isLessThan(threads * perThread);
      h.crash();
      h.reopen();
      List<WalRecord> records = h.records();
      assertThat(records).hasSize(threads * perThread);
      assertThat(h.files().size()).as("rolled over").isGreaterThan(1);
      for (int i = 0; i < records.size(); i++) {
        WalRecord r = records.get(i);
        assertThat(r.lsn()).isEqualTo(i + 1);
        assertThat(new String(r.payload())).isEqualTo(acked.get(r.lsn()));
      }
    }
  }

  @Test
  void always_forces_each_record_before_acknowledging_it() throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments()
        .setFsyncPolicy(FsyncPolicy.ALWAYS))) {
      long before = h.forces.get();
      List<Long> forcesAtAck = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        long lsn = h.wal.append(1, WalHarness.payload(i))
            .thenApply(l -> {
              forcesAtAck.add(h.forces.get() - before);
              return l;
            }).join();
        assertThat(lsn).isEqualTo(i + 1);
      }
      assertThat(forcesAtAck).isEqualTo(LongStream.rangeClosed(1, 20).boxed().toList());
      assertThat(h.wal.commitForces()).isEqualTo(20);
    }
  }

  @Test
  void a_barrier_completes_only_once_every_earlier_append_is_forced() throws Exception {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments())) {
      assertThat(h.wal.barrier()).as("nothing appended yet").isDone();
      List<CompletableFuture<Long>> appended = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        appended.add(h.wal.append(1, WalHarness.payload(i)));
      }
      long forcesAtBarrier = h.wal.barrier().thenApply(x -> h.forces.get()).get(10,
          TimeUnit.SECONDS);
      assertThat(appended).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
      assertThat(forcesAtBarrier).isPositive();
      h.wal.close();
      assertThat(h.wal.append(1, WalHarness.payload(51))).isCompletedExceptionally();
      assertThat(h.wal.barrier()).as("what a closed log refuses fails the barrier")
          .isCompletedExceptionally();
    }
  }

  @Test
  void group_with_one_appender_forces_once_per_append() throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments())) {
      h.append(10);
      assertThat(h.wal.commitForces()).isEqualTo(10);
    }
  }

  @Test
  void interval_acknowledges_before_the_force_and_forces_within_the_interval()
      throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments()
        .setFsyncPolicy(FsyncPolicy.INTERVAL).setFsyncIntervalMs(500))) {
      long start = System.nanoTime();
      h.append(10);
      long forcesAfterAppends = h.wal.commitForces();
      if (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(400)) {
        assertThat(forcesAfterAppends).as("acknowledged before any force").isZero();
      }
      await().atMost(5, TimeUnit.SECONDS).until(() -> h.wal.commitForces() >= 1);
      long forces = h.wal.commitForces();
      await().pollDelay(700, TimeUnit.MILLISECONDS).atMost(5, TimeUnit.SECONDS)
          .untilAsserted(() -> assertThat(h.wal.commitForces()).as("no force when idle")
              .isEqualTo(forces));
    }
  }

  @Test
  void a_bounded_group_wait_and_a_batch_limit_keep_every_record() throws Exception {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments()
        .setGroupCommitWaitMicrosMax(200).setGroupBatchMax(4))) {
      List<CompletableFuture<Long>> acks = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        acks.add(h.wal.append(1, WalHarness.payload(i + 1)));
      }
      for (int i = 0; i < 40; i++) {
        assertThat(acks.get(i).get(5, TimeUnit.SECONDS)).isEqualTo(i + 1);
      }
      assertThat(h.wal.commitForces()).as("at most 4 records per force").isGreaterThanOrEqualTo(10);
      h.reopen();
      assertThat(h.lsns()).isEqualTo(LongStream.rangeClosed(1, 40).boxed().toList());
    }
  }

  @Test
  void close_forces_what_interval_has_not_forced_yet() throws IOException {
    WalHarness h = new WalHarness(dir, WalHarness.smallSegments()
        .setFsyncPolicy(FsyncPolicy.INTERVAL).setFsyncIntervalMs(60_000));
    h.append(3);
    long forces = h.forces.get();
    h.close();
    assertThat(h.forces.get()).isGreaterThan(forces);
    assertThat(h.wal.commitForces()).isEqualTo(1);
  }

  @Test
  void segments_roll_over_and_whole_segments_before_a_snapshot_are_deleted() throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments())) {
      h.append(200); // 35 per segment: bases 1, 36, 71, 106, 141, 176
      assertThat(h.files()).hasSize(6);
      assertThatThrownBy(() -> h.wal.deleteSegmentsBefore(100))
          .hasMessageContaining("lsn must be <= snapshot mark + 1 (1), was 100");
      assertThat(h.wal.markSnapshot(150)).isEqualTo(201);
      assertThat(h.wal.deleteSegmentsBefore(151)).isEqualTo(4);
      assertThat(h.files()).extracting(p -> p.getFileName().toString())
          .containsExactly(WalSegment.fileName(141), WalSegment.fileName(176));
      assertThat(h.wal.firstLsn()).isEqualTo(141);
      h.crash();
      h.reopen();
      assertThat(h.wal.snapshotLsn()).isEqualTo(150);
      assertThat(h.wal.firstLsn()).isEqualTo(141);
      assertThat(h.lsns()).isEqualTo(LongStream.rangeClosed(141, 201).boxed().toList());
      assertThatThrownBy(() -> h.wal.readFrom(140)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void truncate_after_drops_the_suffix_durably_and_reuses_its_lsns() throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments())) {
      h.append(100);
      h.wal.truncateAfter(40);
      assertThat(h.wal.lastLsn()).isEqualTo(40);
      assertThat(h.files()).hasSize(2);
      assertThat(h.wal.append(2, "new".getBytes()).join()).isEqualTo(41);
      h.crash();
      h.reopen();
      List<WalRecord> records = h.records();
      assertThat(records).extracting(WalRecord::lsn)
          .isEqualTo(LongStream.rangeClosed(1, 41).boxed().toList());
      assertThat(new String(records.get(40).payload())).isEqualTo("new");
      h.wal.truncateAfter(35); // exactly at a segment boundary: segment 36 stays, empty
      assertThat(h.append(1)).isEqualTo(36);
      h.reopen();
      assertThat(h.lsns()).isEqualTo(LongStream.rangeClosed(1, 36).boxed().toList());
    }
  }

  @Test
  void truncate_below_the_snapshot_mark_is_refused_and_a_dropped_mark_is_rewritten()
      throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments())) {
      h.append(50);
      h.wal.markSnapshot(20); // the mark is LSN 51
      h.append(5);
      assertThatThrownBy(() -> h.wal.truncateAfter(19))
          .hasMessageContaining("lsn must be >= 20");
      h.wal.truncateAfter(30); // drops the mark record; it is written again as LSN 31
      h.reopen();
      assertThat(h.wal.snapshotLsn()).isEqualTo(20);
      assertThat(h.records().get(30).type()).isEqualTo(WalRecord.TYPE_SNAPSHOT);
    }
  }

  @Test
  void replay_reads_from_any_lsn_across_segments() throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments())) {
      h.append(80);
      try (WalReader r = h.wal.readFrom(33)) {
        List<Long> lsns = new ArrayList<>();
        r.forEachRemaining(rec -> {
          lsns.add(rec.lsn());
          assertThat(rec.payload()).isEqualTo(WalHarness.payload(rec.lsn()));
        });
        assertThat(lsns).isEqualTo(LongStream.rangeClosed(33, 80).boxed().toList());
      }
    }
  }

  @Test
  void open_with_replay_delivers_exactly_the_valid_records_in_one_pass() throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments())) {
      h.append(80);
      List<WalRecord> expected = h.records();
      h.corruptTail(30);
      List<WalRecord> replayed = new ArrayList<>();
      try (WriteAheadLog wal =
          WriteAheadLog.open(dir, WalHarness.smallSegments(), replayed::add)) {
        assertThat(wal.recovery().bytesCut()).isEqualTo(30);
      }
      assertThat(replayed).isEqualTo(expected);
    }
  }

  @Test
  void a_full_queue_blocks_appenders_instead_of_dropping_records() throws Exception {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments().setAppendQueueMax(1))) {
      List<CompletableFuture<Long>> acks = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        acks.add(h.wal.append(1, WalHarness.payload(i + 1)));
      }
      for (int i = 0; i < 200; i++) {
        assertThat(acks.get(i).get(5, TimeUnit.SECONDS)).isEqualTo(i + 1);
      }
      assertThat(h.lsns()).isEqualTo(LongStream.rangeClosed(1, 200).boxed().toList());
    }
  }

  @Test
  void appends_are_checked_and_fail_after_close() throws IOException {
    WalHarness h = new WalHarness(dir, WalHarness.smallSegments());
    assertThatThrownBy(() -> h.wal.append(0, new byte[1])).hasMessage("type must be 1..255, was 0");
    assertThatThrownBy(() -> h.wal.append(255, new byte[1])).hasMessageContaining("reserved");
    assertThatThrownBy(() -> h.wal.append(1, new byte[1025]))
        .hasMessage("payload must be <= recordBytesMax (1024) bytes, was 1025");
    h.close();
    assertThat(h.wal.append(1, new byte[1])).isCompletedExceptionally();
  }

  @Test
  void a_directory_is_opened_by_one_log_at_a_time() throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments())) {
      assertThatThrownBy(() -> WriteAheadLog.open(dir, WalHarness.smallSegments()))
          .isInstanceOf(IOException.class).hasMessageContaining("is open in another");
      h.crash();
      h.reopen();
    }
  }

  @Test
  void a_new_log_starts_at_lsn_1_with_one_preallocated_segment() throws IOException {
    try (WalHarness h = new WalHarness(dir, WalHarness.smallSegments())) {
      assertThat(h.wal.firstLsn()).isEqualTo(1);
      assertThat(h.wal.lastLsn()).isZero();
      assertThat(h.files()).hasSize(1);
      assertThat(Files.size(h.files().get(0))).isEqualTo(4096);
      assertThat(ByteBuffer.wrap(Files.readAllBytes(h.files().get(0))))
          .isEqualTo(ByteBuffer.allocate(4096));
    }
  }
}
