package io.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import io.keel.harness.FreePorts;
import io.keel.harness.NodeProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar's command line, run as real processes: help, configuration errors (exit 2 and one
 * {@code keel: } line on stderr naming the culprit, no process left behind), flags over the
 * config file, and the node name kept in the data directory.
 */
class KeelMainIT {
  private static final int EXIT_CONFIG = 2;
  private static final Duration EXIT_WAIT = Duration.ofSeconds(60);
  private static final List<String> FLAGS = List.of("--name", "--data-dir", "--http-host",
      "--http-port", "--cluster-host", "--cluster-port", "--join", "--role", "--partitions",
      "--replicas");

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();
  @TempDir
  Path tmp;

  private int runs;

  @Test
  void help_exits_0_and_lists_every_flag_with_its_default() {
    NodeProcess keel = keel(0, List.of("--help")).start();
    assertThat(keel.awaitExit(EXIT_WAIT)).isZero();
    List<String> blocks = optionBlocks(keel.stdoutLines());
    for (String flag : FLAGS) {
      assertThat(blocks).as("help of %s", flag)
          .anySatisfy(b -> assertThat(b).startsWith(flag + "=").contains("default"));
    }
  }

  @Test
  void unknown_config_key_exits_2_naming_the_key() throws IOException {
    Path config = write("typo.json", "{\"htpPort\": 9000}");
    assertConfigError(node("--config", config.toString()), "htpPort");
  }

  @Test
  void wrong_type_in_config_exits_2_naming_the_key() throws IOException {
    Path config = write("type.json", "{\"httpPort\": \"x\"}");
    List<String> args = node("--config", config.toString());
    int flag = args.indexOf("--http-port");
    args.subList(flag, flag + 2).clear();
    assertConfigError(args, "httpPort");
  }

  @Test
  void wrong_type_in_config_exits_2_even_when_a_flag_sets_the_key() throws IOException {
    // The file is broken whatever the flags say; it must not start a node only while a flag
    // happens to hide the bad value.
    Path config = write("type.json", "{\"httpPort\": \"x\"}");
    assertConfigError(node("--config", config.toString()), "httpPort");
  }

  @Test
  void unknown_role_exits_2() {
    assertConfigError(node("--role", "bogus"), "role", "bogus");
  }

  @Test
  void http_port_in_use_exits_2_naming_the_port() throws IOException {
    try (ServerSocket taken = bind()) {
      int port = taken.getLocalPort();
      List<String> args = node("--http-port", Integer.toString(port));
      assertConfigError(args, "127.0.0.1:" + port);
    }
  }

  @Test
  void cluster_port_in_use_exits_2_naming_the_port() throws IOException {
    try (ServerSocket taken = bind()) {
      int port = taken.getLocalPort();
      List<String> args = node("--cluster-port", Integer.toString(port),
          "--join", "127.0.0.1:" + port);
      assertConfigError(args, "127.0.0.1:" + port);
    }
  }

  @Test
  void data_dir_under_a_regular_file_exits_2_naming_the_directory() throws IOException {
    // Tests run as root, which chmod 000 does not stop: a path under a file cannot be a dir.
    Path file = write("plain-file", "not a directory");
    String dir = file.resolve("sub").toString();
    assertConfigError(node("--data-dir", dir), dir);
  }

  @Test
  void flags_override_the_config_file() throws IOException {
    // The file's port stays bound by the test: a node that took it would exit 2.
    try (ServerSocket fileOnly = bind()) {
      int fromFlag = FreePorts.next();
      Path config = write("ports.json", "{\"httpPort\": " + fileOnly.getLocalPort() + "}");
      NodeProcess keel = keel(fromFlag, node("--name", "flags", "--config", config.toString(),
          "--http-port", Integer.toString(fromFlag))).start().awaitReady();

      assertThat(keel.status().getString("node")).isEqualTo("flags");
      assertThat(keel.readyName()).isEqualTo("flags");
      assertThat(keel.stop()).as("exit code after SIGTERM").isZero();
    }
  }

  @Test
  void name_is_persisted_and_the_data_dir_refuses_another_name() {
    String dir = tmp.resolve("data").toString();
    int http = FreePorts.next();
    List<String> args = node("--data-dir", dir, "--http-port", Integer.toString(http));
    NodeProcess first = keel(http, args).start().awaitReady();
    String name = first.status().getString("node");
    assertThat(name).isNotBlank().isEqualTo(first.readyName());
    assertThat(first.stop()).isZero();

    NodeProcess again = keel(http, args).start().awaitReady();
    assertThat(again.status().getString("node")).isEqualTo(name);
    assertThat(again.stop()).isZero();

    String other = name.equals("b") ? "c" : "b";
    List<String> renamed = new ArrayList<>(args);
    renamed.addAll(List.of("--name", other));
    assertConfigError(renamed, dir, "'" + name + "'", "'" + other + "'");
  }

  /**
   * Runs the jar, which must exit 2 with exactly one stderr line, {@code keel: ...}, naming
   * every part; no process may be left (the exit is awaited, and the guard checks). A node that
   * starts instead is killed as soon as it is ready, and the test fails.
   */
  private void assertConfigError(List<String> args, String... named) {
    NodeProcess keel = keel(-1, args).start();
    await().atMost(EXIT_WAIT).until(() -> !keel.isAlive() || keel.readyName() != null);
    if (keel.isAlive()) {
      keel.kill9();
      fail("the node started instead of exiting %d: %s", EXIT_CONFIG, keel.stdoutLines());
    }
    assertThat(keel.awaitExit(EXIT_WAIT)).as("exit code").isEqualTo(EXIT_CONFIG);
    List<String> err = keel.stderrLines();
    assertThat(err).as("stderr").hasSize(1);
    assertThat(err.get(0)).startsWith("keel: ").contains(named);
    assertThat(keel.stdoutLines()).as("stdout").noneMatch(l -> l.startsWith("Keel node "));
  }

  /**
   * Flags for a node that could really start: a data directory, free ports on 127.0.0.1 and a
   * cluster of its own, each replaced by the same flag in {@code flagValues} (pairs), which may
   * add others. No flag is given twice: picocli rejects that.
   */
  private List<String> node(String... flagValues) {
    int cluster = FreePorts.next();
    Map<String, String> flags = new LinkedHashMap<>();
    flags.put("--data-dir", tmp.resolve("data").toString());
    flags.put("--http-port", Integer.toString(FreePorts.next()));
    flags.put("--cluster-port", Integer.toString(cluster));
    flags.put("--join", "127.0.0.1:" + cluster);
    flags.put("--cluster-name", "t-" + UUID.randomUUID().toString().substring(0, 8));
    for (int i = 0; i < flagValues.length; i += 2) {
      flags.put(flagValues[i], flagValues[i + 1]);
    }
    List<String> args = new ArrayList<>();
    flags.forEach((flag, value) -> {
      args.add(flag);
      args.add(value);
    });
    return args;
  }

  private NodeProcess keel(int httpPort, List<String> args) {
    String label = "run" + (++runs);
    return new NodeProcess(label, guard.logDir().resolve(label + ".log"), tmp, httpPort, args);
  }

  private Path write(String name, String content) throws IOException {
    return Files.writeString(tmp.resolve(name), content);
  }

  private static ServerSocket bind() throws IOException {
    return new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
  }

  /** The help's option entries, each the flag's line and its continuation lines, trimmed. */
  private static List<String> optionBlocks(List<String> help) {
    List<String> blocks = new ArrayList<>();
    StringBuilder current = null;
    for (String line : help) {
      String t = line.trim();
      if (t.startsWith("-")) {
        if (current != null) {
          blocks.add(current.toString());
        }
        current = new StringBuilder(t.startsWith("--") ? t : t.substring(t.indexOf("--")));
      } else if (current != null && line.startsWith(" ")) {
        current.append(' ').append(t);
      }
    }
    if (current != null) {
      blocks.add(current.toString());
    }
    return blocks;
  }
}
