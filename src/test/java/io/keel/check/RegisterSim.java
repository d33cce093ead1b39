package io.keel.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Generates histories of a correct map: clients issue ops in overlapping time windows, and each
 * op takes effect atomically at one instant inside its window on a sequential map whose versions
 * come from a shared, gapped log index (as Raft's do). Some ops end indeterminate: half of those
 * never take effect, the other half take effect at some instant after their invocation, possibly
 * long after the client gave up. Every generated history is linearizable by construction.
 */
final class RegisterSim {

  /** A generated run: the history and what each key holds at the end (absent keys left out). */
  record Run(List<Op> history, Map<String, HistoryCheck.Stored> finals) {
  }

  private record Planned(int seq, int client, String key, Op.Kind kind, long invoke,
      long complete, long effect, boolean indeterminate, boolean happens) {
  }

  private record Cell(String value, long version) {
  }

  private final SplittableRandom random;
  private final Map<String, Cell> map = new HashMap<>();
  private final Map<String, Long> lastSeen = new HashMap<>();
  private long index;

  private RegisterSim(SplittableRandom random) {
    this.random = random;
  }

  /**
   * Generates a run.
   *
   * @param opsPerClient ops each client issues, one after another
   * @param indeterminateRate the chance that an op gets no answer
   */
  static Run run(SplittableRandom random, int clients, int opsPerClient, int keys,
      double indeterminateRate) {
    return new RegisterSim(random).generate(clients, opsPerClient, keys, indeterminateRate);
  }

  private Run generate(int clients, int opsPerClient, int keys, double indeterminateRate) {
    List<Planned> plan = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      long t = random.nextInt(5);
      for (int i = 0; i < opsPerClient; i++) {
        long complete = t + 1 + random.nextInt(30);
        boolean indeterminate = random.nextDouble() < indeterminateRate;
        long effect = indeterminate ? t + random.nextInt(300) : random.nextLong(t, complete + 1);
        Op.Kind kind = Op.Kind.values()[random.nextInt(Op.Kind.values().length)];
        plan.add(new Planned(plan.size(), c, "k" + random.nextInt(keys), kind, t, complete,
            effect, indeterminate, !indeterminate || random.nextBoolean()));
        t = complete + random.nextInt(5);
      }
    }
    plan.sort(Comparator.comparingLong(Planned::effect).thenComparingInt(Planned::seq));
    List<Op> history = new ArrayList<>();
    for (Planned p : plan) {
      Op op = apply(p);
      history.add(p.indeterminate() ? invocation(op) : op);
    }
    Map<String, HistoryCheck.Stored> finals = new TreeMap<>();
    map.forEach((k, cell) -> finals.put(k, new HistoryCheck.Stored(cell.value(), cell.version())));
    return new Run(history, finals);
  }

  /** Chooses the op's arguments, then runs it on the map if it happens, giving its answer. */
  private Op apply(Planned p) {
    String client = "c" + p.client();
    Cell cell = map.get(p.key());
    long current = cell == null ? 0 : cell.version();
    long expect = random.nextBoolean() ? current
        : lastSeen.getOrDefault(client + "/" + p.key(), (long) random.nextInt(3));
    String value = client + "-" + p.seq();
    switch (p.kind()) {
      case PUT: {
        Op op = Op.put(client, p.key(), value, p.invoke());
        return p.happens() ? op.ok(write(p, client, value), p.complete()) : op;
      }
      case GET: {
        Op op = Op.get(client, p.key(), p.invoke());
        if (cell != null) {
          see(p, client, current);
        }
        return cell == null ? op.notFound(p.complete())
            : op.found(cell.value(), cell.version(), p.complete());
      }
      case CAS: {
        Op op = Op.cas(client, p.key(), expect, value, p.invoke());
        if (!p.happens()) {
          return op;
        }
        return expect == current ? op.ok(write(p, client, value), p.complete())
            : op.conflict(p.complete());
      }
      default: {
        Op op = expect == 0 ? Op.delete(client, p.key(), p.invoke())
            : Op.deleteIf(client, p.key(), expect, p.invoke());
        if (!p.happens() || cell == null) {
          return p.happens() ? op.notFound(p.complete()) : op;
        }
        if (expect != 0 && expect != current) {
          return op.conflict(p.complete());
        }
        map.remove(p.key());
        index += 1 + random.nextInt(3);
        return op.deleted(p.complete());
      }
    }
  }

  private long write(Planned p, String client, String value) {
    index += 1 + random.nextInt(3);
    map.put(p.key(), new Cell(value, index));
    see(p, client, index);
    return index;
  }

  private void see(Planned p, String client, long version) {
    if (!p.indeterminate()) {
      lastSeen.put(client + "/" + p.key(), version);
    }
  }

  private static Op invocation(Op op) {
    return new Op(op.client(), op.key(), op.kind(), op.kind() == Op.Kind.GET ? null : op.value(),
        op.expectVersion(), Op.Outcome.INDETERMINATE, 0, op.invokeNanos(), Long.MAX_VALUE);
  }
}
