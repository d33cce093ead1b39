package io.keel.recovery;

import java.util.PriorityQueue;

/**
 * A queue of tasks ordered by (due time, submission sequence) on a virtual clock that moves
 * only when a task runs: the heart of a deterministic, single-threaded scheduler.
 *
 * <p>Implementation notes. Every task gets a sequence number when it is scheduled, so two
 * tasks due at the same millisecond run in submission order and a run is reproducible from
 * its inputs alone. Running a task first advances {@link #nowMs()} to the task's due time
 * (never backwards). Several {@link VirtualExecutor}s may share one queue: the simulation runs
 * every Raft node of every group from a single queue, which is what makes a seed replayable.
 * Exceptions thrown by a task propagate to the caller of {@link #runNext()}; a simulation
 * treats them as failures.
 *
 * <p>Not thread-safe.
 */
final class TaskQueue {

  /** Default bound on queued tasks. */
  static final int DEFAULT_TASKS_MAX = 1_000_000;

  private record Task(long dueMs, long sequence, Runnable action) implements Comparable<Task> {
    @Override
    public int compareTo(Task other) {
      int byTime = Long.compare(dueMs, other.dueMs);
      return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
    }
  }

  private final PriorityQueue<Task> tasks = new PriorityQueue<>();
  private final int tasksMax;
  // Invariant: nowMs never decreases.
  private long nowMs;
  // Invariant: sequence > the sequence of every queued task.
  private long sequence;
  private long executed;

  TaskQueue() {
    this(DEFAULT_TASKS_MAX);
  }

  TaskQueue(int tasksMax) {
    if (tasksMax <= 0) {
      throw new IllegalArgumentException("tasksMax must be > 0, was " + tasksMax);
    }
    this.tasksMax = tasksMax;
  }

  /** The virtual time, in milliseconds since the queue was created. */
  long nowMs() {
    return nowMs;
  }

  /** Tasks run so far. */
  long executed() {
    return executed;
  }

  /** Tasks waiting. */
  int size() {
    return tasks.size();
  }

  /** Schedules {@code action} to run {@code delayMs} (at least 0) after now. */
  void schedule(long delayMs, Runnable action) {
    if (tasks.size() >= tasksMax) {
      throw new IllegalStateException("task queue full: " + tasks.size() + " tasks, tasksMax="
          + tasksMax + ", nowMs=" + nowMs);
    }
    long dueMs = nowMs + Math.max(0, delayMs);
    tasks.add(new Task(dueMs, sequence++, action));
  }

  /** The due time of the next task, or {@code Long.MAX_VALUE} when the queue is empty. */
  long nextDueMs() {
    Task next = tasks.peek();
    return next == null ? Long.MAX_VALUE : next.dueMs;
  }

  /** Runs the next task, advancing the clock to its due time; false if there was none. */
  boolean runNext() {
    Task next = tasks.poll();
    if (next == null) {
      return false;
    }
    nowMs = Math.max(nowMs, next.dueMs);
    executed++;
    next.action.run();
    return true;
  }

  /**
   * Runs every task due at or before {@code untilMs}, then sets the clock to {@code untilMs}.
   *
   * @return the number of tasks run
   */
  long runUntil(long untilMs) {
    long ran = 0;
    while (nextDueMs() <= untilMs) {
      runNext();
      ran++;
    }
    nowMs = Math.max(nowMs, untilMs);
    return ran;
  }
}
