package io.keel.recovery;

import io.microraft.executor.RaftNodeExecutor;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs Raft groups' tasks on one Vert.x context: no thread per group, so hundreds of groups
 * share a node's event loops. One executor serves every group on its context; all their tasks
 * run there, one at a time, which is the only concurrency guarantee MicroRaft asks for.
 *
 * <p>Implementation notes. A scheduled task's due time is rounded up to a grid of one eighth
 * of its delay (at least {@link #TICK_MS}, at most {@link #GRID_MS_MAX}), and every task due at
 * the same grid point runs in the same turn of the event loop. Idle groups' heartbeats (every
 * second) therefore fire together, and their messages leave together: the transport sends one
 * batch per destination per turn ({@link BusTransport}). A delay grows by at most an eighth,
 * which keeps randomized election timeouts random. No periodic timer runs: a grid point with
 * nothing due costs nothing.
 */
public final class ContextExecutor implements RaftNodeExecutor {
  /** The granularity of scheduled tasks. */
  public static final long TICK_MS = 10;
  /** The coarsest grid, for long delays such as heartbeats. */
  public static final long GRID_MS_MAX = 125;

  private final Context context;
  // Tasks by the grid point (absolute ms) they are due at; touched only on the context.
  private final TreeMap<Long, List<Runnable>> due = new TreeMap<>();

  /** An executor on {@code context}. */
  public ContextExecutor(Context context) {
    this.context = context;
  }

  @Override
  public void execute(Runnable task) {
    if (Vertx.currentContext() == context) {
      task.run();
    } else {
      submit(task);
    }
  }

  @Override
  public void submit(Runnable task) {
    context.runOnContext(v -> task.run());
  }

  @Override
  public void schedule(Runnable task, long delay, TimeUnit unit) {
    long ms = Math.max(0, unit.toMillis(delay));
    long grid = Math.min(GRID_MS_MAX, Math.max(TICK_MS, ms / 8));
    long at = System.currentTimeMillis() + ms;
    long dueMs = (at + grid - 1) / grid * grid;
    execute(() -> add(dueMs, task));
  }

  private void add(long dueMs, Runnable task) {
    List<Runnable> tasks = due.get(dueMs);
    if (tasks == null) {
      tasks = new ArrayList<>();
      due.put(dueMs, tasks);
      long delay = Math.max(1, dueMs - System.currentTimeMillis());
      context.owner().setTimer(delay, id -> runDue(dueMs));
    }
    tasks.add(task);
  }

  private void runDue(long dueMs) {
    List<Runnable> tasks = due.remove(dueMs);
    if (tasks != null) {
      for (Runnable t : tasks) {
        t.run();
      }
    }
  }
}
