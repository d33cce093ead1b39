package io.keel.recovery;

import io.keel.recovery.SimCounterMachine.Command;
import io.keel.recovery.SimCounterMachine.State;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.report.RaftTerm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Watches every replica of one group and fails (with an {@link AssertionError}) the moment a
 * safety property breaks:
 * <ul>
 *   <li>committed entries never change: every replica that applies index i applies the same
 *   command and computes the same result as every other replica, before and after crashes;</li>
 *   <li>no replica skips a command known committed between two it applied;</li>
 *   <li>an installed snapshot equals the state obtained by applying the committed commands up
 *   to its index (where no report of an index came, the command a node applied there before
 *   it could tell, see {@link #matchesHistory}; a node's restart from its own snapshot: at
 *   the end, since it may cover
 *   commands whose reports died with the node);</li>
 *   <li>an acknowledged command is the committed command at the index it was acknowledged
 *   with, with the same result;</li>
 *   <li>at most one leader per term (checked after every step);</li>
 * </ul>
 * and, once the cluster is healed ({@link #checkFinal}), that every replica holds the same
 * state, that state counts each committed request exactly once, and every acknowledged
 * request is in it.
 */
final class SimChecker {

  /** A node's restart from its own snapshot, checked once the history is known (checkFinal). */
  private record Restore(String node, long index, byte[] snapshot) {}

  /** An acknowledgement a client received. */
  record Ack(long client, long seq, long index, long result) {
  }

  // Invariant: an index, once here, is never mapped to other bytes.
  private final TreeMap<Long, byte[]> committed = new TreeMap<>();
  private final Map<Long, byte[]> results = new HashMap<>();
  // Per node incarnation: the last index applied or installed.
  private final Map<String, Long> lastApplied = new HashMap<>();
  private final Map<Integer, RaftEndpoint> leaders = new HashMap<>();
  private final Map<Integer, String> leaderReporters = new HashMap<>();
  private final Map<String, Ack> acks = new HashMap<>();
  // Distinct requests per key: acknowledged, and committed (applied anywhere).
  private final Map<String, Set<String>> ackedByKey = new HashMap<>();
  private final Map<String, Set<String>> committedByKey = new HashMap<>();
  long reads;
  long applies;
  long installs;
  private AssertionError failure;
  private final List<Restore> restores = new ArrayList<>();
  // The latest command any node applied at each index, told or not (appliedUntold).
  private final Map<Long, byte[]> untold = new HashMap<>();

  SimCounterMachine.Observer observer(String node) {
    lastApplied.put(node, 0L);
    return new SimCounterMachine.Observer() {
      @Override
      public void applied(long index, byte[] command, byte[] result) {
        onApplied(node, index, command, result);
      }

      @Override
      public void appliedUntold(long index, byte[] command) {
        untold.put(index, command);
      }

      @Override
      public void installed(long index, byte[] snapshot) {
        onInstalled(node, index, snapshot);
      }

      @Override
      public void restored(long index, byte[] snapshot) {
        installs++;
        restores.add(new Restore(node, index, snapshot));
        lastApplied.put(node, index);
      }
    };
  }

  private void onApplied(String node, long index, byte[] command, byte[] result) {
    applies++;
    long last = lastApplied.get(node);
    byte[] known = committed.putIfAbsent(index, command);
    if (known == null) {
      Command c = Command.decode(command);
      committedByKey.computeIfAbsent(c.key(), k -> new HashSet<>()).add(c.client() + "/" + c.seq());
    }
    if (known != null && !Arrays.equals(known, command)) {
      fail(node + " applied " + Command.decode(command) + " at " + index + " where "
          + Command.decode(known) + " was committed");
    }
    byte[] knownResult = results.putIfAbsent(index, result);
    if (knownResult != null && !Arrays.equals(knownResult, result)) {
      fail(node + " computed " + SimCounterMachine.bytesLong(result) + " at " + index
          + " where " + SimCounterMachine.bytesLong(knownResult) + " was computed before");
    }
    Map<Long, byte[]> skipped = committed.subMap(last, false, index, false);
    if (!skipped.isEmpty()) {
      fail(node + " skipped committed indices " + skipped.keySet() + " between " + last
          + " and " + index);
    }
    lastApplied.put(node, index);
  }

  private void onInstalled(String node, long index, byte[] snapshot) {
    installs++;
    if (!matchesHistory(index, snapshot)) {
      fail(node + " installed a snapshot at " + index + " that differs from the committed"
          + " history up to it: " + difference(reference(index),
              State.decode(snapshot)) + "; no apply reported at "
          + unreported(index));
    }
    lastApplied.put(node, index);
  }

  /**
   * True if {@code snapshot} is the state after the committed commands up to {@code index}.
   *
   * <p>A leader may apply an entry and take a snapshot before its own copy is on its disk (it
   * counted its copy; the followers' acknowledgements made a majority). If it then dies, the
   * reports of its applies die with it, yet a process crash keeps what it wrote: restarted, it
   * sends the snapshot on, and the reports of some indices under it may never come. So where no
   * report came, the command a node applied there untold stands in, and a snapshot that
   * matches only with those makes them committed: a later report of another command at such
   * an index fails as any other would.
   */
  private boolean matchesHistory(long index, byte[] snapshot) {
    if (Arrays.equals(reference(index).encode(), snapshot)) {
      return true;
    }
    TreeMap<Long, byte[]> filled = new TreeMap<>();
    for (Map.Entry<Long, byte[]> e : untold.entrySet()) {
      if (e.getKey() <= index && !committed.containsKey(e.getKey())) {
        filled.put(e.getKey(), e.getValue());
      }
    }
    if (filled.isEmpty()) {
      return false;
    }
    TreeMap<Long, byte[]> history = new TreeMap<>(committed.headMap(index, true));
    history.putAll(filled);
    State s = new State();
    for (byte[] command : history.values()) {
      s.apply(Command.decode(command));
    }
    if (!Arrays.equals(s.encode(), snapshot)) {
      return false;
    }
    for (Map.Entry<Long, byte[]> e : filled.entrySet()) {
      committed.put(e.getKey(), e.getValue());
      Command c = Command.decode(e.getValue());
      committedByKey.computeIfAbsent(c.key(), k -> new HashSet<>()).add(c.client() + "/" + c.seq());
    }
    return true;
  }

  /** The counters and clients where {@code got} differs from {@code want}, a few of each. */
  private static String difference(State want, State got) {
    List<String> out = new ArrayList<>();
    Set<String> keys = new TreeSet<>(want.counters.keySet());
    keys.addAll(got.counters.keySet());
    for (String k : keys) {
      if (!Objects.equals(want.counters.get(k), got.counters.get(k)) && out.size() < 10) {
        out.add(k + ": committed " + want.counters.get(k) + ", snapshot " + got.counters.get(k));
      }
    }
    Set<Long> clients = new TreeSet<>(want.clients.keySet());
    clients.addAll(got.clients.keySet());
    for (Long c : clients) {
      long[] w = want.clients.get(c);
      long[] g = got.clients.get(c);
      if (!Arrays.equals(w, g) && out.size() < 20) {
        out.add("client " + c + ": committed " + Arrays.toString(w) + ", snapshot "
            + Arrays.toString(g));
      }
    }
    return out.toString();
  }

  /** Indices up to {@code index} that no node has reported applying (the first 20). */
  private String unreported(long index) {
    List<Long> out = new ArrayList<>();
    for (long i = 1; i <= index && out.size() < 20; i++) {
      if (!committed.containsKey(i)) {
        out.add(i);
      }
    }
    return out.toString();
  }

  /** A node crashed: its next incarnation starts from scratch. */
  void crashed(String node) {
    lastApplied.put(node, 0L);
  }

  void acked(Ack ack) {
    byte[] command = committed.get(ack.index());
    if (command == null) {
      fail("acknowledged " + ack + " but nothing is committed at " + ack.index());
    }
    Command c = Command.decode(command);
    if (c.client() != ack.client() || c.seq() != ack.seq()) {
      fail("acknowledged " + ack + " but " + c + " is committed at " + ack.index());
    }
    long result = SimCounterMachine.bytesLong(results.get(ack.index()));
    if (result != ack.result()) {
      fail("acknowledged " + ack + " but the committed result is " + result);
    }
    acks.putIfAbsent(ack.client() + "/" + ack.seq(), ack);
    ackedByKey.computeIfAbsent(c.key(), k -> new HashSet<>()).add(c.client() + "/" + c.seq());
  }

  /** Distinct requests for {@code key} acknowledged so far. */
  int ackedCount(String key) {
    Set<String> s = ackedByKey.get(key);
    return s == null ? 0 : s.size();
  }

  /**
   * A linearizable read of {@code key} answered {@code value}: it must count every write
   * acknowledged before the read was sent, and nothing that is not committed.
   */
  void read(String key, long value, int ackedAtSend) {
    reads++;
    Set<String> c = committedByKey.get(key);
    int committedNow = c == null ? 0 : c.size();
    if (value < ackedAtSend || value > committedNow) {
      fail("linearizable read of " + key + " answered " + value + ", but " + ackedAtSend
          + " writes were acknowledged before it was sent and " + committedNow
          + " are committed");
    }
  }

  /** Election safety: at most one leader per term. */
  void checkStep(Map<String, RaftNode> live) {
    for (Map.Entry<String, RaftNode> node : live.entrySet()) {
      RaftTerm term = node.getValue().getTerm();
      RaftEndpoint leader = term.getLeaderEndpoint();
      if (leader != null) {
        RaftEndpoint known = leaders.putIfAbsent(term.getTerm(), leader);
        leaderReporters.putIfAbsent(term.getTerm(), node.getKey());
        if (known != null && !known.equals(leader)) {
          fail("two leaders in term " + term.getTerm() + ": " + known + " (seen by "
              + leaderReporters.get(term.getTerm()) + ") and " + leader + " (seen by "
              + node.getKey() + ")");
        }
      }
    }
  }

  /** The state after every committed command up to {@code index}. */
  State reference(long index) {
    State s = new State();
    for (byte[] command : committed.headMap(index, true).values()) {
      s.apply(Command.decode(command));
    }
    return s;
  }

  /**
   * After healing: every replica applied the whole committed history and holds its state;
   * counters count each distinct request once; every acknowledged request is counted.
   */
  void checkFinal(Map<String, SimCounterMachine> machines) {
    for (Restore r : restores) {
      if (!matchesHistory(r.index(), r.snapshot())) {
        fail(r.node() + " restarted from a snapshot at " + r.index() + " that differs from the"
            + " committed history up to it");
      }
    }
    long lastIndex = committed.isEmpty() ? 0 : committed.lastKey();
    State reference = reference(lastIndex);
    byte[] expected = reference.encode();
    for (Map.Entry<String, SimCounterMachine> m : machines.entrySet()) {
      // A snapshot may sit at the index of a Raft entry after the last command.
      if (m.getValue().lastIndex() < lastIndex) {
        fail(m.getKey() + " applied up to " + m.getValue().lastIndex() + ", committed up to "
            + lastIndex);
      }
      if (!Arrays.equals(expected, m.getValue().stateBytes())) {
        fail(m.getKey() + " state differs from the committed history");
      }
    }
    Map<String, Set<String>> requestsByKey = new TreeMap<>();
    for (byte[] command : committed.values()) {
      Command c = Command.decode(command);
      requestsByKey.computeIfAbsent(c.key(), k -> new HashSet<>()).add(c.client() + "/" + c.seq());
    }
    for (Map.Entry<String, Set<String>> e : requestsByKey.entrySet()) {
      long counter = reference.counters.getOrDefault(e.getKey(), 0L);
      if (counter != e.getValue().size()) {
        fail("counter " + e.getKey() + " is " + counter + " but " + e.getValue().size()
            + " distinct requests for it were committed");
      }
    }
    for (Ack ack : acks.values()) {
      Set<String> requests = requestsByKey.get(Command.decode(committed.get(ack.index())).key());
      if (requests == null || !requests.contains(ack.client() + "/" + ack.seq())) {
        fail("acknowledged " + ack + " is not in the final state");
      }
    }
  }

  int ackCount() {
    return acks.size();
  }

  long committedCount() {
    return committed.size();
  }

  int terms() {
    return leaders.size();
  }

  /** The first failure, kept in case the code that called the checker swallowed it. */
  AssertionError failure() {
    return failure;
  }

  private void fail(String message) {
    if (failure == null) {
      failure = new AssertionError(message);
    }
    throw new AssertionError(message);
  }
}
