package io.keel.map;

/**
 * What a read of a replicated map found.
 *
 * @param key the key read
 * @param value the value (a {@code JsonObject}, {@code JsonArray}, {@code String},
 *     {@code Number} or {@code Boolean}), or null when the key is absent
 * @param version the entry's version (it grows on every change of the key), or 0 when absent
 */
public record MapEntry(String key, Object value, long version) {
  /** Whether the key has an entry. */
  public boolean found() {
    return version > 0;
  }
}
