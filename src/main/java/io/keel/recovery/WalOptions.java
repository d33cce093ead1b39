package io.keel.recovery;

import io.keel.bus.OptionsJson;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The options of a node's write-ahead log. Every option has a default ({@code DEFAULT_*}); the
 * JSON form, read by {@link #WalOptions(JsonObject)}, rejects unknown keys and wrong types.
 */
public class WalOptions {
  /** When an append is acknowledged, relative to {@code fsync}. */
  public enum FsyncPolicy {
    /** Each record is forced to disk on its own before it is acknowledged. */
    ALWAYS,
    /**
     * Records are acknowledged after a force; concurrent appends share one force (group
     * commit). As durable as {@link #ALWAYS}.
     */
    GROUP,
    /**
     * Records are acknowledged once written to the OS and forced every
     * {@code fsyncIntervalMs}: a power loss (not a process crash) loses up to the last interval.
     */
    INTERVAL;

    /** The lower-case name used in JSON. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code always}, {@code group} or {@code interval}. */
    public static FsyncPolicy parse(String s) {
      for (FsyncPolicy p : values()) {
        if (p.wire().equals(s)) {
          return p;
        }
      }
      throw new IllegalArgumentException("fsyncPolicy must be always, group or interval, was " + s);
    }
  }

  public static final FsyncPolicy DEFAULT_FSYNC_POLICY = FsyncPolicy.GROUP;
  public static final int DEFAULT_SEGMENT_BYTES_MAX = 64 << 20;
  public static final int DEFAULT_RECORD_BYTES_MAX = 4 << 20;
  public static final int DEFAULT_GROUP_COMMIT_WAIT_MICROS_MAX = 0;
  public static final int DEFAULT_GROUP_BATCH_MAX = 1024;
  public static final int DEFAULT_FSYNC_INTERVAL_MS = 100;
  public static final int DEFAULT_APPEND_QUEUE_MAX = 8192;

  private static final Set<String> KEYS = Set.of("fsyncPolicy", "segmentBytesMax",
      "recordBytesMax", "groupCommitWaitMicrosMax", "groupBatchMax", "fsyncIntervalMs",
      "appendQueueMax");

  private FsyncPolicy fsyncPolicy = DEFAULT_FSYNC_POLICY;
  private int segmentBytesMax = DEFAULT_SEGMENT_BYTES_MAX;
  private int recordBytesMax = DEFAULT_RECORD_BYTES_MAX;
  private int groupCommitWaitMicrosMax = DEFAULT_GROUP_COMMIT_WAIT_MICROS_MAX;
  private int groupBatchMax = DEFAULT_GROUP_BATCH_MAX;
  private int fsyncIntervalMs = DEFAULT_FSYNC_INTERVAL_MS;
  private int appendQueueMax = DEFAULT_APPEND_QUEUE_MAX;

  /** All defaults. */
  public WalOptions() {}

  /** A copy. */
  public WalOptions(WalOptions other) {
    this(other.toJson());
  }

  /**
   * Reads options from JSON; absent keys keep their defaults.
   *
   * @throws IllegalArgumentException naming the key, for an unknown key, a wrong type or a value
   *     out of range
   */
  public WalOptions(JsonObject json) {
    OptionsJson r = OptionsJson.of(json, "wal option", KEYS);
    setFsyncPolicy(FsyncPolicy.parse(r.string("fsyncPolicy", DEFAULT_FSYNC_POLICY.wire())));
    setSegmentBytesMax(r.integer("segmentBytesMax", DEFAULT_SEGMENT_BYTES_MAX));
    setRecordBytesMax(r.integer("recordBytesMax", DEFAULT_RECORD_BYTES_MAX));
    setGroupCommitWaitMicrosMax(
        r.integer("groupCommitWaitMicrosMax", DEFAULT_GROUP_COMMIT_WAIT_MICROS_MAX));
    setGroupBatchMax(r.integer("groupBatchMax", DEFAULT_GROUP_BATCH_MAX));
    setFsyncIntervalMs(r.integer("fsyncIntervalMs", DEFAULT_FSYNC_INTERVAL_MS));
    setAppendQueueMax(r.integer("appendQueueMax", DEFAULT_APPEND_QUEUE_MAX));
    validate();
  }

  /** The JSON form; {@code new WalOptions(o.toJson())} equals {@code o}. */
  public JsonObject toJson() {
    return new JsonObject().put("fsyncPolicy", fsyncPolicy.wire())
        .put("segmentBytesMax", segmentBytesMax).put("recordBytesMax", recordBytesMax)
        .put("groupCommitWaitMicrosMax", groupCommitWaitMicrosMax)
        .put("groupBatchMax", groupBatchMax).put("fsyncIntervalMs", fsyncIntervalMs)
        .put("appendQueueMax", appendQueueMax);
  }

  /**
   * Checks the options together: a record of {@code recordBytesMax} must fit in a segment.
   *
   * @throws IllegalArgumentException if it does not
   */
  public WalOptions validate() {
    if ((long) recordBytesMax + WalRecord.HEADER_BYTES > segmentBytesMax) {
      throw new IllegalArgumentException("recordBytesMax + " + WalRecord.HEADER_BYTES
          + " must be <= segmentBytesMax (" + segmentBytesMax + "), was " + recordBytesMax);
    }
    return this;
  }

  /** When appends are acknowledged relative to fsync; default {@code group}. */
  public FsyncPolicy getFsyncPolicy() {
    return fsyncPolicy;
  }

  public WalOptions setFsyncPolicy(FsyncPolicy fsyncPolicy) {
    this.fsyncPolicy = Objects.requireNonNull(fsyncPolicy, "fsyncPolicy");
    return this;
  }

  /** The size of a segment file, preallocated with zeros when it is created; default 64 MiB. */
  public int getSegmentBytesMax() {
    return segmentBytesMax;
  }

  public WalOptions setSegmentBytesMax(int segmentBytesMax) {
    this.segmentBytesMax = atLeast("segmentBytesMax", segmentBytesMax, 4096);
    return this;
  }

  /** The largest payload of one record; default 4 MiB. */
  public int getRecordBytesMax() {
    return recordBytesMax;
  }

  public WalOptions setRecordBytesMax(int recordBytesMax) {
    this.recordBytesMax = atLeast("recordBytesMax", recordBytesMax, 1);
    return this;
  }

  /**
   * With {@code group}: how long the writer waits after the first record of a batch for more to
   * join it, in microseconds; default 0 (a batch is whatever queued during the previous force).
   */
  public int getGroupCommitWaitMicrosMax() {
    return groupCommitWaitMicrosMax;
  }

  public WalOptions setGroupCommitWaitMicrosMax(int groupCommitWaitMicrosMax) {
    this.groupCommitWaitMicrosMax =
        atLeast("groupCommitWaitMicrosMax", groupCommitWaitMicrosMax, 0);
    return this;
  }

  /** The most records written and forced together; default 1024. */
  public int getGroupBatchMax() {
    return groupBatchMax;
  }

  public WalOptions setGroupBatchMax(int groupBatchMax) {
    this.groupBatchMax = atLeast("groupBatchMax", groupBatchMax, 1);
    return this;
  }

  /** With {@code interval}: the time between forces, in ms; default 100. */
  public int getFsyncIntervalMs() {
    return fsyncIntervalMs;
  }

  public WalOptions setFsyncIntervalMs(int fsyncIntervalMs) {
    this.fsyncIntervalMs = atLeast("fsyncIntervalMs", fsyncIntervalMs, 1);
    return this;
  }

  /** The most appends waiting for the writer; an append beyond it blocks; default 8192. */
  public int getAppendQueueMax() {
    return appendQueueMax;
  }

  public WalOptions setAppendQueueMax(int appendQueueMax) {
    this.appendQueueMax = atLeast("appendQueueMax", appendQueueMax, 1);
    return this;
  }

  private static int atLeast(String name, int v, int min) {
    if (v < min) {
      throw new IllegalArgumentException(name + " must be >= " + min + ", was " + v);
    }
    return v;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WalOptions w && w.toJson().equals(toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "WalOptions" + toJson().encode();
  }
}
