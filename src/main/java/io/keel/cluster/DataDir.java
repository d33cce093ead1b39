package io.keel.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A node's data directory: the stable node name (made on first start when none is configured)
 * and the last partition-table epoch the node used. Every method blocks: call them at start-up,
 * before Vert.x runs, or on a worker thread.
 */
public final class DataDir {
  static final String NAME_FILE = "node-name";
  static final String EPOCH_FILE = "epoch";
  static final String CLUSTER_FILE = "cluster-id";
  static final String BOOTSTRAP_FILE = "bootstrap-pending";

  private final Path dir;

  private DataDir(Path dir) {
    this.dir = dir;
  }

  /**
   * Opens (creating) the directory and checks that it is writable.
   *
   * @throws IllegalArgumentException naming the directory and the problem
   */
  public static DataDir open(String path) {
    Path dir = Path.of(path).toAbsolutePath();
    try {
      Files.createDirectories(dir);
      Path probe = Files.createTempFile(dir, ".probe", ".tmp");
      Files.delete(probe);
      return new DataDir(dir);
    } catch (AccessDeniedException e) {
      throw new IllegalArgumentException("data directory " + dir + " is not writable");
    } catch (IOException e) {
      throw new IllegalArgumentException("data directory " + dir + " cannot be used: " + e);
    }
  }

  /** The directory. */
  public Path path() {
    return dir;
  }

  /**
   * The node's name: {@code configured} when given (it must match a name already persisted
   * here, since the directory's data belongs to that node), else the persisted one, else a new
   * one, persisted.
   */
  public String resolveName(String configured) {
    Path file = dir.resolve(NAME_FILE);
    String persisted = readString(file);
    if (configured != null) {
      if (persisted != null && !persisted.equals(configured)) {
        throw new IllegalArgumentException("data directory " + dir + " belongs to node '"
            + persisted + "', not '" + configured + "'");
      }
      if (persisted == null) {
        writeString(file, configured);
      }
      return configured;
    }
    if (persisted != null) {
      return persisted;
    }
    byte[] random = new byte[4];
    new SecureRandom().nextBytes(random);
    String name = "node-" + HexFormat.of().formatHex(random);
    writeString(file, name);
    return name;
  }

  /** The last epoch persisted, 0 if none. */
  public long readEpoch() {
    String s = readString(dir.resolve(EPOCH_FILE));
    try {
      return s == null ? 0 : Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("file " + dir.resolve(EPOCH_FILE) + " holds no epoch");
    }
  }

  /** Persists {@code epoch} (atomically replacing the previous one). */
  public void writeEpoch(long epoch) {
    writeString(dir.resolve(EPOCH_FILE), Long.toString(epoch));
  }

  /** The id of the cluster whose data this directory holds, or null before it joined one. */
  public String readClusterId() {
    return readString(dir.resolve(CLUSTER_FILE));
  }

  /** Persists the cluster id (atomically). */
  public void writeClusterId(String id) {
    writeString(dir.resolve(CLUSTER_FILE), id);
  }

  /** The id of a cluster this node began to bootstrap and has not finished, or null. */
  public String readBootstrapPending() {
    return readString(dir.resolve(BOOTSTRAP_FILE));
  }

  /** Marks the start of a bootstrap of cluster {@code id}. */
  public void writeBootstrapPending(String id) {
    writeString(dir.resolve(BOOTSTRAP_FILE), id);
  }

  /** Removes the bootstrap mark. */
  public void clearBootstrapPending() {
    try {
      Files.deleteIfExists(dir.resolve(BOOTSTRAP_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir.resolve(BOOTSTRAP_FILE), e);
    }
  }

  private static String readString(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8).trim() : null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static void writeString(Path file, String value) {
    try {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, value + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
