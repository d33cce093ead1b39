package io.keel.recovery;

import java.util.ArrayDeque;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Runs actions in the order they were submitted, each once the durability barrier it was given
 * has completed (see {@link WriteAheadLog#barrier()}): what a node may tell others only after
 * its log holds what the telling depends on. An action whose barrier failed (the log failed, or
 * the process died) is dropped, and its {@code lost} handler, if any, hears why; every action is
 * dropped after {@link #close()}.
 *
 * <p>Why not {@code barrier.thenRun(action)}: a {@code CompletableFuture} runs the actions
 * waiting on it in reverse order, and the order of a node's messages and acknowledgements is
 * part of what Raft, and the checks of the simulation, rely on.
 *
 * <p>All methods run on the owning thread; {@code owner} brings the release back to it when a
 * barrier completes on another thread.
 */
public final class DurableOrder {
  private record Waiting(CompletableFuture<?> barrier, Runnable action,
      Consumer<Throwable> lost) {}

  private final Executor owner;
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  // The barrier whose completion is already watched: most submissions in a turn share one.
  private CompletableFuture<?> watched;
  private boolean closed;
  private long held;

  /** Actions released on {@code owner}, which runs a task on the owning thread. */
  public DurableOrder(Executor owner) {
    this.owner = owner;
  }

  /** Runs {@code action} once {@code barrier} and every earlier submission's barrier are done. */
  public void submit(CompletableFuture<?> barrier, Runnable action) {
    submit(barrier, action, e -> { });
  }

  /** As {@link #submit(CompletableFuture, Runnable)}; {@code lost} hears a failed barrier. */
  public void submit(CompletableFuture<?> barrier, Runnable action, Consumer<Throwable> lost) {
    if (closed) {
      return;
    }
    Waiting w = new Waiting(barrier, action, lost);
    if (waiting.isEmpty() && barrier.isDone()) {
      run(w);
      return;
    }
    waiting.add(w);
    held++;
    if (barrier != watched) {
      watched = barrier;
      barrier.whenComplete((v, e) -> owner.execute(this::release));
    }
  }

  /** Actions that had to wait for their barrier so far. */
  public long heldCount() {
    return held;
  }

  /** Actions waiting now. */
  public int waitingCount() {
    return waiting.size();
  }

  /** Drops every waiting action and runs nothing more: the process died, or stopped. */
  public void close() {
    closed = true;
    waiting.clear();
  }

  private void release() {
    while (!closed && !waiting.isEmpty() && waiting.peek().barrier().isDone()) {
      run(waiting.poll());
    }
  }

  private static void run(Waiting w) {
    try {
      w.barrier().join();
    } catch (CompletionException | CancellationException e) {
      w.lost().accept(e.getCause() == null ? e : e.getCause());
      return;
    }
    w.action().run();
  }
}
