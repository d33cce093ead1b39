package io.keel.bus;

import io.vertx.core.json.JsonObject;

/** Field readers for request bodies: each failure names the field and what was wrong. */
public final class Json {
  private Json() {}

  /** The non-empty string field {@code name}, or a {@code BAD_REQUEST} exception. */
  public static String requireString(JsonObject body, String name, int maxLength) {
    if (body == null) {
      throw Failure.BAD_REQUEST.exception("the request body must be a JSON object");
    }
    Object v = body.getValue(name);
    if (v == null) {
      throw Failure.BAD_REQUEST.exception("field '" + name + "' is missing");
    }
    if (!(v instanceof String)) {
      throw Failure.BAD_REQUEST.exception(
          "field '" + name + "' must be a string, was " + typeName(v));
    }
    String s = (String) v;
    if (s.isEmpty()) {
      throw Failure.BAD_REQUEST.exception("field '" + name + "' must not be empty");
    }
    if (s.length() > maxLength) {
      throw Failure.BAD_REQUEST.exception(
          "field '" + name + "' is " + s.length() + " characters, more than " + maxLength);
    }
    return s;
  }

  /**
   * How many bytes {@code s} takes in UTF-8, as {@code s.getBytes(UTF_8).length} counts them (a
   * lone surrogate becomes one byte, '?'), without encoding it.
   */
  public static int utf8Length(String s) {
    int bytes = 0;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes++;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        bytes++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** The JSON type name of a decoded value, for error messages. */
  public static String typeName(Object v) {
    if (v == null) {
      return "null";
    } else if (v instanceof String) {
      return "a string";
    } else if (v instanceof Number) {
      return "a number";
    } else if (v instanceof Boolean) {
      return "a boolean";
    } else if (v instanceof JsonObject || v instanceof java.util.Map) {
      return "an object";
    } else {
      return "an array";
    }
  }

  /**
   * The request's own time budget, field {@code timeoutMs} (1..600000), or {@code byDefault};
   * a {@code BAD_REQUEST} exception when it is out of range.
   */
  public static long timeoutMs(JsonObject body, long byDefault) {
    Object t = body.getValue("timeoutMs", byDefault);
    if (!(t instanceof Long || t instanceof Integer) || ((Number) t).longValue() < 1
        || ((Number) t).longValue() > 600_000) {
      throw Failure.BAD_REQUEST.exception("field 'timeoutMs' must be an integer of"
          + " 1..600000, was " + t);
    }
    return ((Number) t).longValue();
  }
}
