package io.keel.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a node process uses, read from outside: its heap after a full GC ({@code jcmd}), the
 * bytes of its data directory, and the bytes it has read and written ({@code /proc/<pid>/io}).
 */
final class NodeProbe {
  private static final Pattern USED = Pattern.compile("total (\\d+)K, used (\\d+)K");

  private NodeProbe() {}

  /**
   * The heap in use after {@code jcmd <pid> GC.run}, in bytes, from {@code GC.heap_info}: the
   * sum of the "used" of each heap space line (one line for G1), Metaspace left out.
   */
  static long heapUsedAfterGc(long pid) throws IOException, InterruptedException {
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    long usedK = 0;
    boolean any = false;
    for (String line : info.split("\n")) {
      Matcher m = USED.matcher(line);
      if (m.find() && !line.contains("Metaspace") && !line.contains("class space")) {
        usedK += Long.parseLong(m.group(2));
        any = true;
      }
    }
    if (!any) {
      throw new IllegalStateException("cannot read the heap of pid " + pid + ": " + info);
    }
    return usedK * 1024;
  }

  /** {@link #heapUsedAfterGc} of each of {@code pids}, one after the other. */
  static long[] heapsUsedAfterGc(long[] pids) throws IOException, InterruptedException {
    long[] heaps = new long[pids.length];
    for (int i = 0; i < pids.length; i++) {
      heaps[i] = heapUsedAfterGc(pids[i]);
    }
    return heaps;
  }

  private static String jcmd(long pid, String command) throws IOException,
      InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p = new ProcessBuilder(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd",
        Long.toString(pid), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException("jcmd " + pid + " " + command + " failed: " + out);
    }
    return out;
  }

  /** The sum of the sizes of the regular files under {@code dir} (0 when it is missing). */
  static long dirBytes(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      long sum = 0;
      for (Path f : walk.filter(Files::isRegularFile).toList()) {
        try {
          sum += Files.size(f);
        } catch (IOException e) {
          // A file deleted meanwhile (a compacted log segment): not there any more.
        }
      }
      return sum;
    }
  }

  /**
   * {@code {rchar, wchar}} of {@code /proc/<pid>/io}: the bytes the process has read and written
   * through system calls (files and sockets alike), or {@code {-1, -1}} where unreadable.
   */
  static long[] io(long pid) {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "io"));
      long r = -1;
      long w = -1;
      for (String l : lines) {
        if (l.startsWith("rchar:")) {
          r = Long.parseLong(l.substring(6).trim());
        } else if (l.startsWith("wchar:")) {
          w = Long.parseLong(l.substring(6).trim());
        }
      }
      return new long[] {r, w};
    } catch (IOException | RuntimeException e) {
      return new long[] {-1, -1};
    }
  }
}
