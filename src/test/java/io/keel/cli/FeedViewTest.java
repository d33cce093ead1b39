package io.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.cli.FeedView.Kind;
import io.keel.cli.FeedView.Line;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Feed lines: events, snapshots, gaps, replays after a reconnection, a restarted node. */
class FeedViewTest {
  private final FeedView view = new FeedView(false);

  private static JsonObject event(long seq, String type) {
    return new JsonObject().put("type", type).put("seq", seq).put("time", 1_000L)
        .put("node", "a").put("name", "orders").put("holder", "worker 1").put("token", 7);
  }

  private static JsonObject snapshot(long seq, JsonObject... recent) {
    return new JsonObject().put("type", "snapshot").put("seq", seq).put("time", 1_000L)
        .put("status", new JsonObject().put("node", "a").put("epoch", 3).put("ready", true))
        .put("recent", new JsonArray(List.of((Object[]) recent)));
  }

  private static List<String> texts(List<Line> lines, Kind kind) {
    return lines.stream().filter(l -> l.kind() == kind).map(Line::text).toList();
  }

  @Test
  void an_event_shows_seq_type_node_and_the_other_fields() {
    view.accept(snapshot(4));
    List<Line> lines = view.accept(event(5, "lock-granted"));
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0).kind()).isEqualTo(Kind.EVENT);
    assertThat(lines.get(0).text()).contains("#5 ", "lock-granted", " a  ",
        "name=orders holder=\"worker 1\" token=7").doesNotContain("seq=", "time=");
  }

  @Test
  void the_first_snapshot_is_one_summary_line_without_its_recent_events() {
    List<Line> lines = view.accept(snapshot(2, event(1, "member-joined"), event(2, "x")));
    assertThat(lines).extracting(Line::kind).containsExactly(Kind.SNAPSHOT);
    assertThat(lines.get(0).text()).contains("snapshot", "epoch=3", "ready=true", "recent=2");
  }

  @Test
  void a_skipped_sequence_number_is_reported_before_the_event() {
    view.accept(snapshot(4));
    view.accept(event(5, "a"));
    List<Line> lines = view.accept(event(8, "b"));
    assertThat(lines).extracting(Line::kind).containsExactly(Kind.NOTICE, Kind.EVENT);
    assertThat(lines.get(0).text()).isEqualTo("missed 2 events (seq 6-7)");
    assertThat(texts(view.accept(event(10, "c")), Kind.NOTICE))
        .containsExactly("missed 1 event (seq 9)");
  }

  @Test
  void a_new_snapshot_replays_the_recent_events_not_seen_and_reports_the_rest_missed() {
    view.accept(snapshot(5));
    view.accept(event(6, "a"));
    view.accept(event(7, "b"));
    List<Line> lines = view.accept(snapshot(11, event(7, "b"), event(9, "d"), event(10, "e"),
        event(11, "f")));
    assertThat(lines).extracting(Line::kind).containsExactly(Kind.SNAPSHOT, Kind.NOTICE,
        Kind.EVENT, Kind.EVENT, Kind.EVENT);
    assertThat(lines.get(1).text()).isEqualTo("missed 1 event (seq 8)");
    assertThat(texts(view.accept(event(12, "g")), Kind.NOTICE)).isEmpty();
  }

  @Test
  void a_new_snapshot_beyond_its_recent_events_reports_them_all_missed() {
    view.accept(snapshot(5));
    List<Line> lines = view.accept(snapshot(9));
    assertThat(texts(lines, Kind.NOTICE)).containsExactly("missed 4 events (seq 6-9)");
  }

  @Test
  void a_snapshot_below_the_last_sequence_number_is_a_restarted_node() {
    view.accept(snapshot(40));
    List<Line> lines = view.accept(snapshot(2, event(1, "x"), event(2, "y")));
    assertThat(texts(lines, Kind.NOTICE)).singleElement().asString()
        .contains("restarted at seq 2 (was at 40)");
    assertThat(texts(lines, Kind.EVENT)).isEmpty();
    assertThat(view.accept(event(3, "z"))).extracting(Line::kind).containsExactly(Kind.EVENT);
  }

  @Test
  void a_snapshot_from_a_node_started_again_is_a_restart_even_past_the_last_seq() {
    view.accept(snapshot(5).put("time", 100_000L).put("status", new JsonObject()
        .put("uptimeMs", 60_000L)));
    List<Line> lines = view.accept(snapshot(9, event(9, "x")).put("time", 130_000L)
        .put("status", new JsonObject().put("uptimeMs", 5_000L)));
    assertThat(texts(lines, Kind.NOTICE)).singleElement().asString()
        .contains("restarted at seq 9 (was at 5)");
    assertThat(texts(lines, Kind.EVENT)).isEmpty();
  }

  @Test
  void json_lines_are_the_messages_as_received() {
    FeedView json = new FeedView(true);
    JsonObject s = snapshot(1);
    JsonObject e = event(2, "lock-granted");
    assertThat(new JsonObject(json.accept(s).get(0).text())).isEqualTo(s);
    assertThat(new JsonObject(json.accept(e).get(0).text())).isEqualTo(e);
  }
}
