package io.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The status table: counts per member, the partitions summary, and its size at 512. */
class StatusViewTest {

  /** Node a of a, b, c: 512 partitions round robin, a holds the ones it is primary or next of. */
  private static JsonObject document(int partitions) {
    List<String> names = List.of("a", "b", "c");
    JsonArray members = new JsonArray();
    names.forEach(n -> members.add(new JsonObject().put("name", n).put("role", "data")
        .put("weight", 1).put("host", "127.0.0.1").put("self", n.equals("a"))));
    JsonArray primaries = new JsonArray();
    JsonArray held = new JsonArray();
    for (int p = 0; p < partitions; p++) {
      String primary = names.get(p % 3);
      primaries.add(primary);
      if (!primary.equals("c")) {
        String phase = p == 6 || p == 7 || p == 9 || p == 40 ? "catching-up" : "active";
        held.add(new JsonObject().put("partition", p)
            .put("role", primary.equals("a") ? "primary" : "replica").put("phase", phase)
            .put("raftRole", primary.equals("a") ? "leader" : "follower").put("leader", primary)
            .put("term", 2).put("applied", 10).put("members", new JsonArray().add("a").add("b")));
      }
    }
    held.add(new JsonObject().put("partition", partitions + 1).put("role", "leaving")
        .put("phase", "pending"));
    return new JsonObject().put("node", "a").put("role", "data").put("cluster", "prod")
        .put("ready", true).put("uptimeMs", 192_000).put("epoch", 9).put("members", members)
        .put("partitions", held).put("ring", new JsonObject().put("partitions", partitions)
            .put("replicas", 2).put("primaries", primaries))
        .put("recovery", new JsonObject().put("phase", "active"))
        .put("locks", new JsonArray().add(new JsonObject().put("name", "x")))
        .put("map", new JsonObject().put("entries", 3).put("bytes", 2048).put("budget", 1L << 26));
  }

  private static String row(List<String> lines, String member) {
    return lines.stream().filter(l -> l.substring(1).trim().startsWith(member + " "))
        .findFirst().orElseThrow();
  }

  @Test
  void header_names_node_cluster_epoch_and_readiness() {
    assertThat(StatusView.lines(document(6)).get(0)).startsWith("node a  cluster prod  epoch 9"
        + "  ready yes").contains("data node", "up 3m12s", "recovery active");
  }

  @Test
  void members_show_primaries_replicas_led_and_own_catching_up() {
    List<String> lines = StatusView.lines(document(512));
    // 171 primaries for a and b, 170 for c; a's partitions: b replicates a's 171, a b's 171.
    assertThat(row(lines, "a").trim().split("\\s+")).containsExactly("*", "a", "data", "1",
        "127.0.0.1", "171", "171", "171", "4");
    assertThat(row(lines, "b").trim().split("\\s+")).containsExactly("b", "data", "1",
        "127.0.0.1", "171", "171", "171", "-");
    assertThat(row(lines, "c").trim().split("\\s+")).containsExactly("c", "data", "1",
        "127.0.0.1", "170", "0", "0", "-");
  }

  @Test
  void partitions_not_active_are_listed_as_runs_and_the_whole_fits_in_a_few_lines() {
    List<String> lines = StatusView.lines(document(512));
    assertThat(lines).hasSizeLessThanOrEqualTo(11).allSatisfy(l -> assertThat(l.length())
        .isLessThanOrEqualTo(100));
    assertThat(lines).contains("partitions: 512 x 2 replicas; a holds 343: 171 primary,"
        + " 171 replica, 1 leaving", "raft on a: 171 leader, 171 follower, 0 learner");
    assertThat(lines).contains("not active: catching-up 4 [6-7, 9, 40]; pending 1 [513]");
    assertThat(lines).contains("locks: 1 held in the partitions a leads",
        "map: 3 entries, 2.0 KiB of a 64.0 MiB budget, in the partitions a holds");
  }

  @Test
  void the_lock_count_is_the_nodes_count_not_the_length_of_its_short_list() {
    JsonObject doc = document(3).put("locksHeld", 250);
    assertThat(StatusView.lines(doc)).contains("locks: 250 held in the partitions a leads");
  }

  @Test
  void all_active_reads_none() {
    JsonObject doc = document(3);
    JsonArray held = new JsonArray();
    doc.getJsonArray("partitions").stream().map(JsonObject.class::cast)
        .filter(e -> "active".equals(e.getString("phase"))).forEach(held::add);
    assertThat(StatusView.lines(doc.put("partitions", held))).contains("not active: none");
  }
}
