package io.keel.harness;

import io.keel.cli.KeelMain;
import java.nio.file.Path;

/**
 * A node process whose lock leases are measured by a {@link SkewedClock} that follows the file
 * named by the system property {@code keel.test.clockOffsetFile}: the jar's own command line
 * otherwise ({@link KeelMain#run(String[], java.time.Clock)}). The clock nemesis writes that
 * file to make the node's lease clock jump.
 */
public final class SkewedClockMain {
  /** The system property naming the offset file. */
  public static final String OFFSET_FILE = "keel.test.clockOffsetFile";
  private static final long READ_PERIOD_MS = 20;

  private SkewedClockMain() {}

  public static void main(String[] args) {
    String file = System.getProperty(OFFSET_FILE);
    if (file == null) {
      System.err.println("keel: -D" + OFFSET_FILE + "=<file> is required");
      System.exit(2);
    }
    System.exit(KeelMain.run(args, SkewedClock.watching(Path.of(file), READ_PERIOD_MS)));
  }
}
