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
 * <p>Implementation notes. Tasks scheduled a whole number of seconds ahead (MicroRaft's
 * heartbeat and leader-lease checks, whose periods are configured in seconds) are aligned on a
 * grid of {@link #GRID_MS}: every such task due at the same grid point runs in the same turn
 * of the event loop, so idle groups' heartbeats leave together and the transport sends them as
 * one batch per destination ({@link BusTransport}). Every other delay is kept exact. Election
 * timeouts are randomized in milliseconds, and aligning them would make nodes time out
 * together and split their votes forever; that happened when all delays were aligned. No
 * periodic timer runs: a grid point with nothing due costs nothing.
 */
public final class ContextExecutor implements RaftNodeExecutor {
  /** The grid that tasks due in whole seconds are aligned on. */
  public static final long GRID_MS = 125;

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
    long at = System.currentTimeMillis() + ms;
    long dueMs = ms > 0 && ms % 1000 == 0 ? (at + GRID_MS - 1) / GRID_MS * GRID_MS
        : at;
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
