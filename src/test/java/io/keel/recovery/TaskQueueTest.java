package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TaskQueueTest {

  @Test
  void tasks_run_by_due_time_then_submission_order() {
    TaskQueue queue = new TaskQueue();
    List<String> ran = new ArrayList<>();
    queue.schedule(10, () -> ran.add("b@10"));
    queue.schedule(5, () -> ran.add("a@5"));
    queue.schedule(10, () -> ran.add("c@10"));
    queue.schedule(0, () -> ran.add("now"));
    while (queue.runNext()) {
      ran.add("t=" + queue.nowMs());
    }
    assertThat(ran).containsExactly("now", "t=0", "a@5", "t=5", "b@10", "t=10", "c@10", "t=10");
  }

  @Test
  void time_moves_only_forward_and_run_until_stops_at_the_bound() {
    TaskQueue queue = new TaskQueue();
    List<Long> times = new ArrayList<>();
    queue.schedule(100, () -> queue.schedule(-5, () -> times.add(queue.nowMs())));
    queue.schedule(300, () -> times.add(queue.nowMs()));
    assertThat(queue.runUntil(200)).isEqualTo(2);
    assertThat(times).containsExactly(100L);
    assertThat(queue.nowMs()).isEqualTo(200);
    assertThat(queue.nextDueMs()).isEqualTo(300);
  }

  @Test
  void a_full_queue_refuses_with_its_bound_in_the_message() {
    TaskQueue queue = new TaskQueue(1);
    queue.schedule(0, () -> { });
    assertThatThrownBy(() -> queue.schedule(0, () -> { }))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("tasksMax=1");
  }

  @Test
  void a_closed_executor_drops_queued_and_new_tasks() {
    TaskQueue queue = new TaskQueue();
    VirtualExecutor executor = new VirtualExecutor(queue);
    List<String> ran = new ArrayList<>();
    executor.execute(() -> ran.add("execute"));
    executor.schedule(() -> ran.add("later"), 2, TimeUnit.SECONDS);
    executor.submit(() -> ran.add("submit"));
    queue.runUntil(1_000);
    executor.close();
    executor.submit(() -> ran.add("after close"));
    queue.runUntil(10_000);
    assertThat(ran).containsExactly("execute", "submit");
  }

  @Test
  void the_virtual_clock_reads_queue_time() {
    TaskQueue queue = new TaskQueue();
    VirtualClock clock = new VirtualClock(queue, 1_000);
    queue.schedule(250, () -> { });
    queue.runNext();
    assertThat(clock.millis()).isEqualTo(1_250);
    assertThat(clock.instant().toEpochMilli()).isEqualTo(1_250);
  }
}
