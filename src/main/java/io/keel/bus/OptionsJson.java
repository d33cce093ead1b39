package io.keel.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Strict reading of options from JSON: unknown keys and wrong types are errors that name the key,
 * unlike the generated Vert.x converters, which ignore them and so hide typos.
 */
public final class OptionsJson {
  private final JsonObject json;
  private final String what;

  private OptionsJson(JsonObject json, String what) {
    this.json = json;
    this.what = what;
  }

  /** A reader of {@code json}, which may hold only {@code allowed} keys. */
  public static OptionsJson of(JsonObject json, String what, Set<String> allowed) {
    Set<String> unknown = new TreeSet<>(json.fieldNames());
    unknown.removeAll(allowed);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown " + what + " key" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
              + " (known: " + String.join(", ", new TreeSet<>(allowed)) + ")");
    }
    return new OptionsJson(json, what);
  }

  /** Whether the key is present (even with a null value). */
  public boolean has(String key) {
    return json.containsKey(key);
  }

  /** A string value, or {@code dflt} when the key is absent or null. */
  public String string(String key, String dflt) {
    Object v = json.getValue(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof String)) {
      throw wrongType(key, "a string", v);
    }
    return (String) v;
  }

  /** An integer value, or {@code dflt} when the key is absent. */
  public int integer(String key, int dflt) {
    Object v = json.getValue(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Integer || v instanceof Long || v instanceof Short)
        || ((Number) v).longValue() != ((Number) v).intValue()) {
      throw wrongType(key, "a whole number", v);
    }
    return ((Number) v).intValue();
  }

  /** A long value, or {@code dflt} when the key is absent. */
  public long longValue(String key, long dflt) {
    Object v = json.getValue(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Integer || v instanceof Long || v instanceof Short)) {
      throw wrongType(key, "a whole number", v);
    }
    return ((Number) v).longValue();
  }

  /** A number value, or {@code dflt} when the key is absent. */
  public double number(String key, double dflt) {
    Object v = json.getValue(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number)) {
      throw wrongType(key, "a number", v);
    }
    return ((Number) v).doubleValue();
  }

  /** A boolean value, or {@code dflt} when the key is absent. */
  public boolean bool(String key, boolean dflt) {
    Object v = json.getValue(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Boolean)) {
      throw wrongType(key, "true or false", v);
    }
    return (Boolean) v;
  }

  /** A nested object, or an empty one when the key is absent. */
  public JsonObject object(String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof JsonObject)) {
      throw wrongType(key, "an object", v);
    }
    return (JsonObject) v;
  }

  /** A list of strings: a JSON array of strings, or one comma-separated string. */
  public List<String> strings(String key, List<String> dflt) {
    Object v = json.getValue(key);
    if (v == null) {
      return dflt;
    }
    List<String> out = new ArrayList<>();
    if (v instanceof String) {
      for (String s : ((String) v).split(",")) {
        if (!s.isBlank()) {
          out.add(s.trim());
        }
      }
      return out;
    }
    if (!(v instanceof JsonArray)) {
      throw wrongType(key, "an array of strings", v);
    }
    for (Object o : (JsonArray) v) {
      if (!(o instanceof String)) {
        throw wrongType(key, "an array of strings", v);
      }
      out.add((String) o);
    }
    return out;
  }

  private IllegalArgumentException wrongType(String key, String expected, Object v) {
    return new IllegalArgumentException(
        what + " key '" + key + "' must be " + expected + ", was " + Json.typeName(v) + " (" + v + ")");
  }
}
