package io.keel.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class EventFeedTest {
  private static JsonObject event(int n) {
    return new JsonObject().put("type", "recovery-phase").put("n", n);
  }

  @Test
  void a_lone_event_is_due_at_once_and_a_quick_second_waits_for_the_batch() {
    EventFeed feed = new EventFeed(4, 10);
    feed.stamp(event(1), 1_000);
    assertThat(feed.sendInMs(1_000)).isZero();
    assertThat(new JsonObject(feed.take(1_000)).getLong("seq")).isEqualTo(1);
    feed.stamp(event(2), 1_003);
    feed.stamp(event(3), 1_004);
    assertThat(feed.sendInMs(1_004)).isEqualTo(6);
    assertThat(feed.sendInMs(1_010)).isZero();
    String[] lines = feed.take(1_010).split("\n");
    assertThat(lines).hasSize(2);
    assertThat(new JsonObject(lines[0]).getLong("seq")).isEqualTo(2);
    assertThat(new JsonObject(lines[1]).getLong("seq")).isEqualTo(3);
    assertThat(feed.take(1_020)).as("nothing queued").isNull();
  }

  @Test
  void recent_events_are_bounded_and_keep_their_stamps() {
    EventFeed feed = new EventFeed(2, 10);
    for (int i = 1; i <= 3; i++) {
      feed.stamp(event(i), 500 + i);
    }
    assertThat(feed.seq()).isEqualTo(3);
    assertThat(feed.recent()).extracting(e -> e.getLong("seq")).containsExactly(2L, 3L);
    assertThat(feed.recent().get(1).getLong("time")).isEqualTo(503);
    assertThatThrownBy(() -> new EventFeed(1, -1)).hasMessage("batchMs must be >= 0, was -1");
  }
}
