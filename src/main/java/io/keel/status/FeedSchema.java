package io.keel.status;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The schema of the status feed's events: every event has {@code type}, {@code seq},
 * {@code time} and {@code node}, and the fields its type lists here, of the JSON types listed.
 * The README's table says the same; the feed's test checks every event it sees against this.
 *
 * <p>Kinds: {@code string}, {@code number}, {@code boolean}, {@code object}, {@code array};
 * a trailing {@code ?} allows null (the field is still present).
 */
public final class FeedSchema {
  /** The fields of every event. */
  static final Map<String, String> COMMON = Map.of("type", "string", "seq", "number",
      "time", "number", "node", "string");

  /** The fields of each event type, beyond the common ones. */
  static final Map<String, Map<String, String>> TYPES = Map.ofEntries(
      Map.entry("member-joined", Map.of("member", "object")),
      Map.entry("member-left", Map.of("member", "object")),
      Map.entry("epoch-changed", Map.of("epoch", "number", "previousEpoch", "number",
          "members", "array", "moved", "number")),
      Map.entry("partition-moved", Map.of("partition", "number", "from", "string?",
          "to", "string?", "replicas", "array", "epoch", "number")),
      Map.entry("recovery-phase", Map.of("phase", "string")),
      Map.entry("replica-added", Map.of("partition", "number", "member", "string",
          "copyMs", "number?")),
      Map.entry("leader-moved", Map.of("partition", "number", "from", "string", "to", "string",
          "pauseMs", "number", "ok", "boolean")),
      Map.entry("lock-granted", lockFields()),
      Map.entry("lock-released", lockFields()),
      Map.entry("lock-expired", lockFields()));

  private FeedSchema() {}

  private static Map<String, String> lockFields() {
    return Map.of("name", "string", "holder", "string", "token", "number", "reason", "string");
  }

  /** What is wrong with {@code event} against the schema; empty when nothing is. */
  public static List<String> violations(JsonObject event) {
    List<String> out = new ArrayList<>();
    check(event, COMMON, out);
    Map<String, String> fields = TYPES.get(event.getString("type", ""));
    if (fields == null) {
      out.add("unknown event type '" + event.getValue("type") + "'");
    } else {
      check(event, fields, out);
    }
    return out;
  }

  private static void check(JsonObject event, Map<String, String> fields, List<String> out) {
    fields.forEach((name, kind) -> {
      boolean nullable = kind.endsWith("?");
      String base = nullable ? kind.substring(0, kind.length() - 1) : kind;
      if (!event.containsKey(name)) {
        out.add(event.getValue("type") + ": field '" + name + "' is missing");
        return;
      }
      Object v = event.getValue(name);
      if (v == null ? !nullable : !kind(v).equals(base)) {
        out.add(event.getValue("type") + ": field '" + name + "' must be " + kind + ", was "
            + (v == null ? "null" : kind(v)));
      }
    });
  }

  private static String kind(Object v) {
    if (v instanceof String) {
      return "string";
    } else if (v instanceof Number) {
      return "number";
    } else if (v instanceof Boolean) {
      return "boolean";
    } else if (v instanceof JsonObject) {
      return "object";
    } else if (v instanceof JsonArray) {
      return "array";
    }
    return v.getClass().getSimpleName();
  }
}
