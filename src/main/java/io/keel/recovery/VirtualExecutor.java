package io.keel.recovery;

import io.microraft.executor.RaftNodeExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A {@link RaftNodeExecutor} that runs one Raft node's tasks from a {@link TaskQueue}, on the
 * queue's virtual time: no thread of its own.
 *
 * <p>Implementation notes. MicroRaft needs three things of its executor: every task of a node
 * runs on one logical thread, one after another; {@code execute} and {@code submit} run a task
 * soon; {@code schedule} runs it after a delay. A queue shared by every node of a simulation
 * gives all three, and a total order over all nodes. The Vert.x executor follows the same
 * shape, with {@code Context.runOnContext} for the queue and {@code Vertx.setTimer} for delays;
 * both drop tasks once the node is closed, as a crashed process would.
 *
 * <p>{@link #close()} models a crash: tasks already queued for this node are discarded when
 * their turn comes, and new ones are ignored.
 *
 * <p>A task that throws a {@link RuntimeException} is reported to the failure handler, if one
 * is given (as a thread pool or a Vert.x context would log it and go on), else rethrown to the
 * queue's caller. Errors (an {@link AssertionError} of a checker) always propagate.
 */
final class VirtualExecutor implements RaftNodeExecutor {

  private final TaskQueue queue;
  private final Consumer<RuntimeException> onTaskFailure;
  private boolean closed;

  VirtualExecutor(TaskQueue queue) {
    this(queue, null);
  }

  VirtualExecutor(TaskQueue queue, Consumer<RuntimeException> onTaskFailure) {
    this.queue = queue;
    this.onTaskFailure = onTaskFailure;
  }

  @Override
  public void execute(Runnable task) {
    submit(task);
  }

  @Override
  public void submit(Runnable task) {
    schedule(task, 0, TimeUnit.MILLISECONDS);
  }

  @Override
  public void schedule(Runnable task, long delay, TimeUnit timeUnit) {
    if (closed) {
      return;
    }
    long delayMs = timeUnit.toMillis(delay);
    if (delayMs == 0 && delay > 0) {
      delayMs = 1; // sub-millisecond delays still let time pass
    }
    queue.schedule(delayMs, () -> {
      if (!closed) {
        run(task);
      }
    });
  }

  private void run(Runnable task) {
    if (onTaskFailure == null) {
      task.run();
      return;
    }
    try {
      task.run();
    } catch (RuntimeException e) {
      onTaskFailure.accept(e);
    }
  }

  /** Discards every queued and future task of this node. */
  void close() {
    closed = true;
  }

  boolean isClosed() {
    return closed;
  }
}
