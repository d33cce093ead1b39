package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class DurableOrderTest {
  private final List<String> ran = new ArrayList<>();
  private final DurableOrder order = new DurableOrder(Runnable::run);

  @Test
  void an_action_whose_barrier_is_done_runs_at_once() {
    order.submit(CompletableFuture.completedFuture(null), () -> ran.add("a"));
    assertThat(ran).containsExactly("a");
    assertThat(order.heldCount()).isZero();
  }

  @Test
  void actions_wait_for_their_barrier_and_run_in_submission_order() {
    CompletableFuture<Void> first = new CompletableFuture<>();
    CompletableFuture<Void> second = new CompletableFuture<>();
    for (String s : List.of("a", "b", "c")) {
      order.submit(first, () -> ran.add(s));
    }
    order.submit(second, () -> ran.add("d"));
    // Done already, but after actions that still wait: it waits with them.
    order.submit(CompletableFuture.completedFuture(null), () -> ran.add("e"));
    assertThat(ran).isEmpty();
    second.complete(null);
    assertThat(ran).as("an earlier barrier is still pending").isEmpty();
    first.complete(null);
    assertThat(ran).containsExactly("a", "b", "c", "d", "e");
    assertThat(order.waitingCount()).isZero();
  }

  @Test
  void a_failed_barrier_drops_its_actions_and_later_ones_still_run() {
    CompletableFuture<Void> lost = new CompletableFuture<>();
    CompletableFuture<Void> later = new CompletableFuture<>();
    order.submit(lost, () -> ran.add("lost"));
    order.submit(later, () -> ran.add("later"));
    lost.completeExceptionally(new IllegalStateException("the log failed"));
    later.complete(null);
    assertThat(ran).containsExactly("later");
  }

  @Test
  void the_lost_handler_hears_why_a_barrier_failed() {
    CompletableFuture<Void> lost = new CompletableFuture<>();
    List<Throwable> heard = new ArrayList<>();
    order.submit(lost, () -> ran.add("lost"), heard::add);
    order.submit(CompletableFuture.completedFuture(null), () -> ran.add("next"), heard::add);
    IllegalStateException failure = new IllegalStateException("the log failed");
    lost.completeExceptionally(failure);
    assertThat(heard).containsExactly(failure);
    assertThat(ran).containsExactly("next");
  }

  @Test
  void nothing_runs_after_close() {
    CompletableFuture<Void> barrier = new CompletableFuture<>();
    order.submit(barrier, () -> ran.add("held"));
    order.close();
    barrier.complete(null);
    order.submit(CompletableFuture.completedFuture(null), () -> ran.add("after"));
    assertThat(ran).isEmpty();
  }

  @Test
  void a_release_is_brought_back_through_the_owner() {
    List<Runnable> owner = new ArrayList<>();
    DurableOrder queued = new DurableOrder(owner::add);
    CompletableFuture<Void> barrier = new CompletableFuture<>();
    queued.submit(barrier, () -> ran.add("a"));
    barrier.complete(null);
    assertThat(ran).as("not on the completing thread").isEmpty();
    owner.forEach(Runnable::run);
    assertThat(ran).containsExactly("a");
  }
}
