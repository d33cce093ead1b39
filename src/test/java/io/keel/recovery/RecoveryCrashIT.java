package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.harness.FreePorts;
import io.keel.harness.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node process opening a write-ahead log left by a crash: a torn tail is cut and the node
 * starts; a corrupt record in the middle stops it, naming the file and the offset.
 */
class RecoveryCrashIT {
  private static final int RECORDS = 20;
  private static final int PAYLOAD_BYTES = 100;
  /** A record type the Raft replay passes over: these records are the test's own. */
  private static final int TEST_TYPE = 9;
  private static final Duration WAIT = Duration.ofSeconds(60);

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();
  @TempDir
  Path tmp;

  /** Writes the records a crashed node would have left, and returns the first segment. */
  private Path writeLog(Path dataDir) throws Exception {
    Path dir = dataDir.resolve(RecoveryVerticle.LOG_DIR);
    try (WriteAheadLog wal = WriteAheadLog.open(dir, new WalOptions())) {
      for (int i = 0; i < RECORDS; i++) {
        byte[] payload = new byte[PAYLOAD_BYTES];
        java.util.Arrays.fill(payload, (byte) (i + 1));
        wal.append(TEST_TYPE, payload).get(10, TimeUnit.SECONDS);
      }
    }
    try (var files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".wal")).sorted().findFirst()
          .orElseThrow();
    }
  }

  private static long offsetOf(int record) {
    return (long) record * (WalRecord.HEADER_BYTES + PAYLOAD_BYTES);
  }

  private NodeProcess node(Path dataDir, int httpPort) {
    int cluster = FreePorts.next();
    List<String> args = new ArrayList<>(List.of("--name", "r1", "--data-dir",
        dataDir.toString(), "--http-port", Integer.toString(httpPort), "--cluster-port",
        Integer.toString(cluster), "--join", "127.0.0.1:" + cluster, "--cluster-name",
        "t-" + UUID.randomUUID().toString().substring(0, 8)));
    return new NodeProcess("r1", guard.logDir().resolve("r1.log"), tmp, httpPort, args);
  }

  @Test
  void a_torn_tail_is_cut_and_the_node_starts_with_the_complete_records() throws Exception {
    Path dataDir = tmp.resolve("data");
    Path segment = writeLog(dataDir);
    long lastStart = offsetOf(RECORDS - 1);
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      // The last record half written: its header and part of its payload, then nothing.
      f.setLength(lastStart + WalRecord.HEADER_BYTES + PAYLOAD_BYTES / 2);
    }
    NodeProcess node = node(dataDir, FreePorts.next()).start().awaitReady(WAIT);
    // Ready once its groups run; active once they have elected their leaders.
    assertThat(node.status().getJsonObject("recovery").getString("phase"))
        .isIn("catching-up", "active");
    await().atMost(WAIT).untilAsserted(() -> assertThat(node.status()
        .getJsonObject("recovery").getString("phase")).isEqualTo("active"));
    JsonObject recovery = node.status().getJsonObject("recovery");
    JsonObject log = recovery.getJsonObject("log");
    assertThat(log.getLong("lastLsn")).isEqualTo(RECORDS - 1);
    JsonObject cut = log.getJsonObject("cut");
    assertThat(cut.getLong("offset")).isEqualTo(lastStart);
    assertThat(cut.getLong("bytes")).isEqualTo(WalRecord.HEADER_BYTES + PAYLOAD_BYTES / 2);
    assertThat(node.stop()).isZero();
  }

  @Test
  void a_flipped_byte_mid_log_stops_the_node_naming_file_and_offset() throws Exception {
    Path dataDir = tmp.resolve("data");
    Path segment = writeLog(dataDir);
    long victim = offsetOf(5);
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      f.seek(victim + WalRecord.HEADER_BYTES + 10);
      f.write(0x5a);
    }
    NodeProcess node = node(dataDir, FreePorts.next()).start();
    await().atMost(WAIT).until(() -> !node.isAlive() || node.readyName() != null);
    assertThat(node.readyName()).as("the node must not start").isNull();
    assertThat(node.awaitExit(WAIT)).as("exit code").isEqualTo(2);
    assertThat(node.stderrLines()).hasSize(1);
    assertThat(node.stderrLines().get(0)).startsWith("keel: ")
        .contains(segment.toString(), "offset " + victim);
    // Nothing was cut or rewritten: the evidence stays for the operator.
    assertThat(Files.size(segment)).isGreaterThan(offsetOf(RECORDS));
  }
}
