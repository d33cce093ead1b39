package io.keel.map;

import io.keel.bus.OptionsJson;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * The limits of the replicated map on a node: the largest key and value, and the heap its
 * entries may take. Every option has a default ({@code DEFAULT_*}); the JSON form rejects
 * unknown keys and wrong types.
 */
public class MapOptions {
  public static final int DEFAULT_KEY_BYTES_MAX = 1024;
  public static final int DEFAULT_VALUE_BYTES_MAX = 1 << 20;
  public static final long DEFAULT_MEMORY_BYTES_MAX = 0;
  /** The largest value any configuration allows: a command must fit one log record. */
  public static final int VALUE_BYTES_LIMIT = 16 << 20;

  private static final Set<String> KEYS = Set.of("keyBytesMax", "valueBytesMax",
      "memoryBytesMax");

  private int keyBytesMax = DEFAULT_KEY_BYTES_MAX;
  private int valueBytesMax = DEFAULT_VALUE_BYTES_MAX;
  private long memoryBytesMax = DEFAULT_MEMORY_BYTES_MAX;

  /** All defaults. */
  public MapOptions() {}

  /** A copy. */
  public MapOptions(MapOptions other) {
    this(other.toJson());
  }

  /**
   * Reads options from JSON; absent keys keep their defaults.
   *
   * @throws IllegalArgumentException naming the key, for an unknown key, a wrong type or a value
   *     out of range
   */
  public MapOptions(JsonObject json) {
    OptionsJson r = OptionsJson.of(json, "map option", KEYS);
    setKeyBytesMax(r.integer("keyBytesMax", DEFAULT_KEY_BYTES_MAX));
    setValueBytesMax(r.integer("valueBytesMax", DEFAULT_VALUE_BYTES_MAX));
    setMemoryBytesMax(r.longValue("memoryBytesMax", DEFAULT_MEMORY_BYTES_MAX));
  }

  /** The JSON form; {@code new MapOptions(o.toJson())} equals {@code o}. */
  public JsonObject toJson() {
    return new JsonObject().put("keyBytesMax", keyBytesMax).put("valueBytesMax", valueBytesMax)
        .put("memoryBytesMax", memoryBytesMax);
  }

  /** The longest key, in UTF-8 bytes; default 1 KiB. */
  public int getKeyBytesMax() {
    return keyBytesMax;
  }

  public MapOptions setKeyBytesMax(int keyBytesMax) {
    if (keyBytesMax < 1 || keyBytesMax > 4096) {
      throw new IllegalArgumentException("keyBytesMax must be 1..4096, was " + keyBytesMax);
    }
    this.keyBytesMax = keyBytesMax;
    return this;
  }

  /** The largest value, as JSON text in UTF-8 bytes; default 1 MiB. */
  public int getValueBytesMax() {
    return valueBytesMax;
  }

  public MapOptions setValueBytesMax(int valueBytesMax) {
    if (valueBytesMax < 1 || valueBytesMax > VALUE_BYTES_LIMIT) {
      throw new IllegalArgumentException("valueBytesMax must be 1.." + VALUE_BYTES_LIMIT
          + ", was " + valueBytesMax);
    }
    this.valueBytesMax = valueBytesMax;
    return this;
  }

  /**
   * How many heap bytes the entries of all partitions replicated on this node may take; a put
   * that would go beyond it is refused. 0 (the default): a quarter of the maximum heap.
   */
  public long getMemoryBytesMax() {
    return memoryBytesMax;
  }

  public MapOptions setMemoryBytesMax(long memoryBytesMax) {
    if (memoryBytesMax < 0) {
      throw new IllegalArgumentException("memoryBytesMax must be >= 0, was " + memoryBytesMax);
    }
    this.memoryBytesMax = memoryBytesMax;
    return this;
  }

  /** The budget in effect: {@link #getMemoryBytesMax()}, or a quarter of the heap for 0. */
  public long memoryBudget() {
    return memoryBytesMax > 0 ? memoryBytesMax : Runtime.getRuntime().maxMemory() / 4;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MapOptions m && m.toJson().equals(toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }
}
