package io.keel.nemesis;

import io.keel.harness.LogDamage;
import io.keel.harness.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk nemeses: a node is killed ({@code kill -9}) and its write-ahead log damaged
 * ({@link LogDamage}) before it starts again. A torn last record must be cut, and the node must
 * start without it; a corrupt record before the tail must stop the node (exit code 2, one
 * {@code keel: } line naming the file and the record's offset, and before it joins the
 * cluster) until the byte is restored.
 * Either check failing fails the run with an {@link AssertionError}: that is a bug in recovery.
 */
final class DiskFaults {
  private static final Logger log = LoggerFactory.getLogger(DiskFaults.class);
  /** How long a node refusing its log may take to exit. */
  private static final Duration REFUSAL_WAIT = Duration.ofSeconds(90);
  /** The exit code of a node whose log is corrupt (a configuration-class error). */
  private static final int EXIT_CORRUPT = 2;

  private DiskFaults() {}

  /**
   * {@code torn-tail}: {@code kill -9} of a random node, then one more record, torn, after the
   * last of its log, as a power cut during that write would leave it ({@link
   * LogDamage#tearNextRecord}). Undone by restarting the node, which must report (in
   * {@code /status}, {@code recovery.log.cut}) a cut at the start of that record.
   */
  static Fault tornTail() {
    String[] node = new String[1];
    LogDamage.Tear[] tear = new LogDamage.Tear[1];
    return Faults.of("torn-tail", env -> {
      node[0] = Faults.randomNode(env);
      env.cluster.node(node[0]).kill9();
      tear[0] = LogDamage.tearNextRecord(env.cluster.dataDir(node[0]), env.random);
      log.info("torn-tail: {} killed; record LSN {} torn at {} offset {} ({} bytes): {}",
          node[0], tear[0].lsn(), tear[0].file(), tear[0].offset(), tear[0].length(),
          tear[0].what());
      return List.of(node[0]);
    }, env -> {
      NodeProcess p = env.cluster.node(node[0]).restart();
      JsonObject cut = p.status().getJsonObject("recovery").getJsonObject("log")
          .getJsonObject("cut");
      String expected = "a cut of " + tear[0].file().getFileName() + " at offset "
          + tear[0].offset() + " (" + tear[0].what() + ", record LSN " + tear[0].lsn() + ")";
      if (tear[0].length() == 0) {
        log.info("torn-tail: {} restarted; nothing was torn ({})", node[0], tear[0].what());
        return;
      }
      if (cut == null) {
        throw new AssertionError("torn-tail: " + node[0] + " restarted without cutting its log;"
            + " expected " + expected + "; log " + p.logFile());
      }
      long bytes = cut.getLong("bytes", -1L);
      if (!tear[0].file().getFileName().toString().equals(cut.getString("file"))
          || cut.getLong("offset", -1L) != tear[0].offset() || bytes < 1
          || bytes > tear[0].length()) {
        throw new AssertionError("torn-tail: " + node[0] + " cut " + cut.encode()
            + "; expected " + expected + ", of 1.." + tear[0].length() + " bytes; log "
            + p.logFile());
      }
      log.info("torn-tail: {} restarted, cut {} bytes at {} offset {}; log says: {}", node[0],
          bytes, cut.getString("file"), cut.getLong("offset"),
          firstLine(p.stdoutLines(), "cut a torn tail"));
    });
  }

  /**
   * {@code corrupt-log}: {@code kill -9} of a random node, one byte flipped in a log record that
   * has valid records after it, and the node started: it must refuse (exit code 2 before any
   * ready line, one stderr line {@code keel: ...} naming the segment's path and
   * {@code offset <record start>}), and stays down for the fault. Undone by writing the byte
   * back and restarting the node.
   */
  static Fault corruptLog() {
    String[] node = new String[1];
    LogDamage.Flip[] flip = new LogDamage.Flip[1];
    return Faults.of("corrupt-log", env -> {
      node[0] = Faults.randomNode(env);
      NodeProcess p = env.cluster.node(node[0]);
      p.kill9();
      flip[0] = LogDamage.flipMidLog(env.cluster.dataDir(node[0]), env.random);
      log.info("corrupt-log: {} killed; flipped {}", node[0], flip[0]);
      p.start();
      Awaitility.await(node[0] + " refusing its log").atMost(REFUSAL_WAIT)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> !p.isAlive() || p.readyName() != null);
      if (p.readyName() != null) {
        throw new AssertionError("corrupt-log: " + node[0] + " started on a log with a corrupt"
            + " record (" + flip[0] + "); log " + p.logFile());
      }
      int code = p.awaitExit(REFUSAL_WAIT);
      List<String> stderr = p.stderrLines();
      String line = stderr.isEmpty() ? "" : stderr.get(0);
      if (code != EXIT_CORRUPT || stderr.size() != 1 || !names(line, flip[0])) {
        throw new AssertionError("corrupt-log: " + node[0] + " exited with " + code
            + " and stderr " + stderr + "; expected " + EXIT_CORRUPT + " and one line starting"
            + " 'keel: ' naming " + flip[0].file() + " and offset " + flip[0].offset()
            + "; log " + p.logFile());
      }
      // It checks its log before it joins: Hazelcast never listed it as a member.
      List<String> joined = p.stdoutLines().stream().filter(l -> l.contains("Members {"))
          .toList();
      if (!joined.isEmpty()) {
        throw new AssertionError("corrupt-log: " + node[0] + " joined the cluster before it"
            + " refused its log: " + joined.get(0) + "; log " + p.logFile());
      }
      log.info("corrupt-log: {} refused its log (exit {}): {}", node[0], code, line);
      return List.of(node[0]);
    }, env -> {
      LogDamage.restore(flip[0]);
      env.cluster.node(node[0]).restart();
      log.info("corrupt-log: {} restarted after the byte was restored", node[0]);
    });
  }

  /** Whether {@code line} is a {@code keel: } line naming the flipped record's file and offset. */
  private static boolean names(String line, LogDamage.Flip flip) {
    Path file = flip.file();
    return line.startsWith("keel: ") && line.contains(file.toString())
        && Pattern.compile("offset " + flip.offset() + "(?!\\d)").matcher(line).find();
  }

  /** The first line containing {@code text}, or a note that there is none. */
  private static String firstLine(List<String> lines, String text) {
    return lines.stream().filter(l -> l.contains(text)).findFirst()
        .orElse("(no line with '" + text + "')");
  }
}
