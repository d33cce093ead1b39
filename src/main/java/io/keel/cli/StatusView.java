package io.keel.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The readable form of a {@code GET /status} document: a header line, the members table and a
 * partitions summary, short enough for 512 partitions. Pure: the document in, lines out.
 *
 * <p>Implementation notes. One node's document knows the primary of every partition
 * ({@code ring.primaries}) but the replica groups only of the partitions that node holds. So
 * {@code PRIMARIES} is exact for every member, {@code REPLICAS} and {@code LED} count within the
 * partitions the node holds (all of them when every node holds every partition, as with three
 * nodes and three replicas), and {@code CATCHING-UP} is known for the node itself only. With
 * nodes a, b, c, 8 partitions and 3 replicas, node a's view reads:
 * <pre>
 *   MEMBER  ROLE  WEIGHT  HOST       PRIMARIES  REPLICAS  LED  CATCHING-UP
 * * a       data  1       127.0.0.1  3          5         3    0
 *   b       data  1       127.0.0.1  3          5         3    -
 * </pre>
 */
final class StatusView {
  static final int RUNS_LISTED_MAX = 16;

  private StatusView() {}

  /** The lines of {@code doc}. */
  static List<String> lines(JsonObject doc) {
    String node = doc.getString("node", "?");
    JsonArray held = doc.getJsonArray("partitions", new JsonArray());
    List<String> out = new ArrayList<>();
    out.add(header(doc));
    out.addAll(members(doc, node, held));
    out.addAll(partitions(doc, node, held));
    out.addAll(footer(doc, node));
    return out;
  }

  private static String header(JsonObject doc) {
    JsonObject recovery = doc.getJsonObject("recovery", new JsonObject());
    return "node " + doc.getString("node", "?") + "  cluster " + doc.getString("cluster", "?")
        + "  epoch " + doc.getValue("epoch", "?") + "  ready "
        + (doc.getBoolean("ready", false) ? "yes" : "NO") + "  (" + doc.getString("role", "?")
        + " node, up " + Formats.duration(doc.getLong("uptimeMs", 0L)) + ", recovery "
        + recovery.getString("phase", "?") + ")";
  }

  /** One row per member; counts are [primaries, replicas, led, catching-up]. */
  private static List<String> members(JsonObject doc, String node, JsonArray held) {
    JsonArray primaries = doc.getJsonObject("ring", new JsonObject())
        .getJsonArray("primaries", new JsonArray());
    Map<String, JsonObject> rows = new LinkedHashMap<>();
    for (Object o : doc.getJsonArray("members", new JsonArray())) {
      JsonObject m = (JsonObject) o;
      rows.put(m.getString("name"), m);
    }
    Map<String, int[]> counts = new LinkedHashMap<>();
    rows.keySet().forEach(name -> counts.put(name, new int[4]));
    for (int p = 0; p < primaries.size(); p++) {
      String primary = primaries.getString(p);
      if (primary != null) {
        counts.computeIfAbsent(primary, k -> new int[4])[0]++;
      }
    }
    for (Object o : held) {
      JsonObject e = (JsonObject) o;
      int p = e.getInteger("partition", -1);
      String primary = p >= 0 && p < primaries.size() ? primaries.getString(p) : null;
      for (Object m : e.getJsonArray("members", new JsonArray())) {
        if (!m.equals(node) && !m.equals(primary)) {
          counts.computeIfAbsent((String) m, k -> new int[4])[1]++;
        }
      }
      int[] self = counts.computeIfAbsent(node, k -> new int[4]);
      self[1] += "replica".equals(e.getString("role")) ? 1 : 0;
      self[3] += "catching-up".equals(e.getString("phase")) ? 1 : 0;
      String leader = e.getString("leader");
      if (leader != null) {
        counts.computeIfAbsent(leader, k -> new int[4])[2]++;
      }
    }
    TextTable table = new TextTable(" ", "MEMBER", "ROLE", "WEIGHT", "HOST", "PRIMARIES",
        "REPLICAS", "LED", "CATCHING-UP");
    counts.forEach((name, c) -> {
      JsonObject m = rows.getOrDefault(name, new JsonObject().put("role", "gone"));
      boolean self = name.equals(node);
      table.row(self ? "*" : " ", name, m.getString("role"), m.getValue("weight"),
          m.getString("host"), c[0], c[1], c[2], self ? Integer.valueOf(c[3]) : null);
    });
    return table.lines();
  }

  private static List<String> partitions(JsonObject doc, String node, JsonArray held) {
    JsonObject ring = doc.getJsonObject("ring", new JsonObject());
    Map<String, Integer> roles = zeros("primary", "replica", "leaving");
    Map<String, Integer> raft = zeros("leader", "follower", "learner");
    Map<String, List<Integer>> notActive = new TreeMap<>();
    List<Integer> leaderless = new ArrayList<>();
    for (Object o : held) {
      JsonObject e = (JsonObject) o;
      int p = e.getInteger("partition", -1);
      roles.merge(e.getString("role", "?"), 1, Integer::sum);
      String phase = e.getString("phase", "?");
      if (!"pending".equals(phase)) {
        raft.merge(e.getString("raftRole", "?"), 1, Integer::sum);
        if (e.getString("leader") == null) {
          leaderless.add(p);
        }
      }
      if (!"active".equals(phase)) {
        notActive.computeIfAbsent(phase, k -> new ArrayList<>()).add(p);
      }
    }
    List<String> out = new ArrayList<>();
    out.add("(REPLICAS and LED: within the partitions " + node + " holds; CATCHING-UP: " + node
        + "'s own)");
    out.add("partitions: " + ring.getValue("partitions", "?") + " x " + ring.getValue("replicas",
        "?") + " replicas; " + node + " holds " + held.size() + ": " + counts(roles));
    out.add("raft on " + node + ": " + counts(raft));
    StringBuilder line = new StringBuilder("not active: ");
    notActive.forEach((phase, ps) -> line.append(phase).append(' ').append(ps.size())
        .append(" [").append(Formats.ranges(ps, RUNS_LISTED_MAX)).append("]; "));
    if (!leaderless.isEmpty()) {
      line.append("no leader known ").append(leaderless.size()).append(" [")
          .append(Formats.ranges(leaderless, RUNS_LISTED_MAX)).append("]; ");
    }
    out.add(notActive.isEmpty() && leaderless.isEmpty() ? "not active: none"
        : line.substring(0, line.length() - 2));
    return out;
  }

  private static List<String> footer(JsonObject doc, String node) {
    List<String> out = new ArrayList<>();
    out.add("locks: " + Formats.locksHeld(doc) + " held in the partitions " + node + " leads");
    JsonObject map = doc.getJsonObject("map");
    if (map != null) {
      out.add("map: " + map.getValue("entries", "?") + " entries, "
          + Formats.bytes(map.getLong("bytes", 0L)) + " of a "
          + Formats.bytes(map.getLong("budget", 0L)) + " budget, in the partitions " + node
          + " holds");
    }
    return out;
  }

  private static Map<String, Integer> zeros(String... keys) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (String k : keys) {
      m.put(k, 0);
    }
    return m;
  }

  private static String counts(Map<String, Integer> counts) {
    if (counts.isEmpty()) {
      return "none";
    }
    StringBuilder s = new StringBuilder();
    counts.forEach((k, v) -> s.append(s.length() == 0 ? "" : ", ").append(v).append(' ')
        .append(k));
    return s.toString();
  }
}
