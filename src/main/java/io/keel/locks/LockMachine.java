package io.keel.locks;

import io.keel.recovery.Bytes;
import io.keel.recovery.PartitionStateMachine;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The lock table of one partition: named locks with leases, fencing tokens and FIFO waiters,
 * changed only by commands committed through the partition's Raft log.
 *
 * <p>Rules:
 * <ul>
 *   <li>A grant's fencing token is the Raft log index of the command that granted it. Indices
 *   only grow in a group, across leaders, restarts and snapshots, so a lock's tokens strictly
 *   increase, and a token exists only once its grant is committed.</li>
 *   <li>Time travels inside commands: the leader stamps each with its clock. The table keeps
 *   the largest time it has seen, so a leader whose clock is behind cannot move time back.
 *   Before each command, leases that ended and waits that ran out by then are settled, so an
 *   acquire after a lease's end is granted at once; a periodic {@link #tick} settles the rest.
 *   </li>
 *   <li>After a new leader's first entry ({@link #onNewTerm}), every lease is extended to at
 *   least a full lease from the next command's time: a new leader never expires a lease it has
 *   not seen for a full lease (the rule etcd follows), since the old leader may have renewed it
 *   a moment before it failed.</li>
 *   <li>Waiters are granted in arrival order; each has its own deadline; a queue holds at most
 *   {@code waitersMax}. An acquire with a request id already seen is answered from what
 *   happened to it (granted, still waiting, timed out, or its lease has ended), never granted
 *   twice.</li>
 *   <li>Ownership is by token: renew and release name the token, not a thread or a node.</li>
 *   <li>A command hands a lock on at most once (a lease is at least 1 ms, and a leaving node's
 *   waits end before its leases do), so two grants never share a token.</li>
 * </ul>
 *
 * <p>Every command answers an {@link Outcome}: its own status, plus the events it caused
 * (grants to waiters, leases that ended, waits that ran out), so that the leader that proposed
 * it can answer the waiting requests and publish the events. Pure and deterministic: sorted
 * maps, no clock, no I/O.
 */
public final class LockMachine implements PartitionStateMachine {
  /** Its name in a partition's machine set. */
  public static final String NAME = "keel.lock";
  /** The default bound on one lock's queue of waiters. */
  public static final int WAITERS_MAX_DEFAULT = 1_024;
  /** How many recent request ids each partition remembers. */
  static final int REQUEST_IDS_MAX = 100_000;

  private static final byte ACQUIRE = 1;
  private static final byte RENEW = 2;
  private static final byte RELEASE = 3;
  private static final byte TICK = 4;
  private static final byte RELEASE_NODE = 5;
  private static final byte INFO = 1;
  private static final byte HELD = 2;

  /** What a command did for its proposer. */
  public enum Status {
    /** The lock is granted: token, lease and holder are set. */
    GRANTED,
    /** The acquire waits in the queue; a later command's {@link Event} grants it. */
    QUEUED,
    /** The lease was renewed. */
    RENEWED,
    /** The lock was released. */
    RELEASED,
    /** Renew or release with a token that is not the holder's (lease lost, or released). */
    CONFLICT,
    /** The acquire would have had to wait longer than it may, or its wait ran out. */
    TIMEOUT,
    /** The queue of waiters is full. */
    FULL,
    /** A tick or a node's release: see the events. */
    DONE,
    /** The command could not be read; nothing changed. */
    MALFORMED
  }

  /** What an event reports. */
  public enum EventKind {
    /** A waiter (or an acquire retried) was granted the lock. */
    GRANTED,
    /** The holder released it. */
    RELEASED,
    /** The holder's lease ran out. */
    EXPIRED,
    /** The holder's node left the cluster. */
    NODE_LEFT,
    /** A waiter's wait ran out (or its node left); it gets {@code TIMEOUT}. */
    WAIT_ENDED
  }

  /**
   * One change a command caused.
   *
   * @param requestId the acquire it concerns
   * @param token the grant's token (of the lease that ended, for the ends)
   */
  public record Event(EventKind kind, String name, String requestId, String holder,
      long token, long leaseMs) {}

  /**
   * A command's answer.
   *
   * @param token the grant's token (GRANTED, RENEWED), else 0
   * @param leaseMs the lease (GRANTED, RENEWED), else 0
   * @param holder the holder granted (GRANTED), else null
   */
  public record Outcome(Status status, long token, long leaseMs, String holder,
      List<Event> events) {

    byte[] encode() {
      return Bytes.write(out -> {
        out.writeByte(status.ordinal());
        out.writeLong(token);
        out.writeLong(leaseMs);
        writeNullable(out, holder);
        out.writeInt(events.size());
        for (Event e : events) {
          out.writeByte(e.kind().ordinal());
          out.writeUTF(e.name());
          writeNullable(out, e.requestId());
          writeNullable(out, e.holder());
          out.writeLong(e.token());
          out.writeLong(e.leaseMs());
        }
      });
    }

    /** Decodes an outcome. */
    public static Outcome decode(byte[] bytes) {
      return Bytes.read(bytes, in -> {
        Status status = Status.values()[in.readByte()];
        long token = in.readLong();
        long leaseMs = in.readLong();
        String holder = readNullable(in);
        List<Event> events = new ArrayList<>();
        for (int n = in.readInt(); n > 0; n--) {
          events.add(new Event(EventKind.values()[in.readByte()], in.readUTF(), readNullable(in),
              readNullable(in), in.readLong(), in.readLong()));
        }
        return new Outcome(status, token, leaseMs, holder, events);
      });
    }
  }

  /**
   * A lock as {@link #info} tells it.
   *
   * @param leaseLeftMs the lease left at the time the query gave
   */
  public record Info(String name, boolean held, long token, String holder, long leaseLeftMs,
      int waiters, long lastToken) {}

  private record Holder(String requestId, String holder, String node, long token, long leaseMs,
      long expiresAt) {}

  private record Waiter(String requestId, String holder, String node, long leaseMs,
      long deadline) {}

  /** A lock entry exists while the lock is held or waited for. */
  private static final class Lock {
    long lastToken;
    Holder holder;
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  }

  private enum RequestState { WAITING, GRANTED, TIMED_OUT, ENDED }

  private record Request(String name, RequestState state, long token) {}

  /** A deadline, ordered by time, then name and request id (deterministic). */
  private record Deadline(long at, String name, String requestId)
      implements Comparable<Deadline> {
    @Override
    public int compareTo(Deadline o) {
      int c = Long.compare(at, o.at);
      if (c == 0) {
        c = name.compareTo(o.name);
      }
      return c != 0 ? c : requestId.compareTo(o.requestId);
    }
  }

  private final int waitersMax;
  private final TreeMap<String, Lock> locks = new TreeMap<>();
  private final TreeSet<Deadline> leaseEnds = new TreeSet<>();
  private final TreeSet<Deadline> waitEnds = new TreeSet<>();
  // Oldest first: the first entry is the next one forgotten.
  private final LinkedHashMap<String, Request> requests = new LinkedHashMap<>();
  private long now;
  private boolean extendLeases;
  // Published after every change, for the leader's housekeeping on other threads.
  private volatile long nextDeadlineMs = Long.MAX_VALUE;
  private volatile int heldCount;
  private volatile int waiterCount;
  private volatile Set<String> holderNodes = Set.of();
  // How many leases each node holds; the key set is what holderNodes publishes.
  private final TreeMap<String, Integer> leasesByNode = new TreeMap<>();

  /** A table whose queues hold at most {@code waitersMax} waiters each. */
  public LockMachine(int waitersMax) {
    if (waitersMax < 1) {
      throw new IllegalArgumentException("waitersMax must be >= 1, was " + waitersMax);
    }
    this.waitersMax = waitersMax;
  }

  /** A table with the default bound on waiters. */
  public LockMachine() {
    this(WAITERS_MAX_DEFAULT);
  }

  // ---- commands

  /**
   * The command to acquire {@code name} for {@code holder} (on node {@code node}), with a
   * lease of {@code leaseMs}, waiting at most {@code waitMs} (0: do not wait), at time
   * {@code nowMs}.
   */
  public static byte[] acquire(String name, String holder, String node, String requestId,
      long leaseMs, long waitMs, long nowMs) {
    return Bytes.write(out -> {
      out.writeByte(ACQUIRE);
      out.writeUTF(name);
      out.writeUTF(holder);
      out.writeUTF(node);
      out.writeUTF(requestId);
      out.writeLong(leaseMs);
      out.writeLong(waitMs);
      out.writeLong(nowMs);
    });
  }

  /** The command to renew {@code name}'s lease held with {@code token} for {@code leaseMs}. */
  public static byte[] renew(String name, long token, long leaseMs, long nowMs) {
    return Bytes.write(out -> {
      out.writeByte(RENEW);
      out.writeUTF(name);
      out.writeLong(token);
      out.writeLong(leaseMs);
      out.writeLong(nowMs);
    });
  }

  /** The command to release {@code name} held with {@code token}. */
  public static byte[] release(String name, long token, long nowMs) {
    return Bytes.write(out -> {
      out.writeByte(RELEASE);
      out.writeUTF(name);
      out.writeLong(token);
      out.writeLong(nowMs);
    });
  }

  /** The command that settles leases and waits that ended by {@code nowMs}. */
  public static byte[] tick(long nowMs) {
    return Bytes.write(out -> {
      out.writeByte(TICK);
      out.writeLong(nowMs);
    });
  }

  /** The command that ends the leases and waits of every holder on node {@code node}. */
  public static byte[] releaseNode(String node, long nowMs) {
    return Bytes.write(out -> {
      out.writeByte(RELEASE_NODE);
      out.writeUTF(node);
      out.writeLong(nowMs);
    });
  }

  @Override
  public byte[] apply(long index, byte[] command) {
    Outcome outcome;
    try {
      outcome = Bytes.read(command, in -> apply(index, in));
    } catch (IllegalArgumentException e) {
      outcome = new Outcome(Status.MALFORMED, 0, 0, null, List.of());
    }
    publish();
    return outcome.encode();
  }

  private void publish() {
    long next = leaseEnds.isEmpty() ? Long.MAX_VALUE : leaseEnds.first().at();
    if (!waitEnds.isEmpty()) {
      next = Math.min(next, waitEnds.first().at());
    }
    nextDeadlineMs = next;
    heldCount = leaseEnds.size();
    // Every waiter waits with a deadline, and leaves the set when granted or ended.
    waiterCount = waitEnds.size();
    if (!holderNodes.equals(leasesByNode.keySet())) {
      holderNodes = Set.copyOf(leasesByNode.keySet());
    }
  }

  /** The nodes named by the holders of leases: safe to read from any thread. */
  public Set<String> holderNodes() {
    return holderNodes;
  }

  private void countLease(String node, int delta) {
    if (!node.isEmpty()) {
      leasesByNode.merge(node, delta, (a, b) -> a + b == 0 ? null : a + b);
    }
  }

  /**
   * The earliest lease end or wait deadline, {@code Long.MAX_VALUE} when none: safe to read
   * from any thread (as of the last command applied).
   */
  public long nextDeadlineMs() {
    return nextDeadlineMs;
  }

  /** How many locks are held: safe to read from any thread. */
  public int heldCount() {
    return heldCount;
  }

  /** How many acquires wait in the queues of all locks: safe to read from any thread. */
  public int waiterCount() {
    return waiterCount;
  }

  private Outcome apply(long index, DataInputStream in) throws IOException {
    byte op = in.readByte();
    List<Event> events = new ArrayList<>();
    switch (op) {
      case ACQUIRE: {
        String name = in.readUTF();
        String holder = in.readUTF();
        String node = in.readUTF();
        String requestId = in.readUTF();
        long leaseMs = in.readLong();
        long waitMs = in.readLong();
        long at = in.readLong();
        if (leaseMs < 1 || waitMs < 0) {
          throw new IOException("lease must be >= 1 ms and wait >= 0 ms");
        }
        advance(index, at, events);
        return acquire(index, name, holder, node, requestId, leaseMs, waitMs, events);
      }
      case RENEW: {
        String name = in.readUTF();
        long token = in.readLong();
        long leaseMs = in.readLong();
        long at = in.readLong();
        if (leaseMs < 1) {
          throw new IOException("lease must be >= 1 ms");
        }
        advance(index, at, events);
        Lock lock = locks.get(name);
        if (lock == null || lock.holder == null || lock.holder.token() != token) {
          return new Outcome(Status.CONFLICT, 0, 0, null, events);
        }
        Holder h = lock.holder;
        leaseEnds.remove(new Deadline(h.expiresAt(), name, h.requestId()));
        lock.holder = new Holder(h.requestId(), h.holder(), h.node(), token, leaseMs,
            now + leaseMs);
        leaseEnds.add(new Deadline(now + leaseMs, name, h.requestId()));
        return new Outcome(Status.RENEWED, token, leaseMs, h.holder(), events);
      }
      case RELEASE: {
        String name = in.readUTF();
        long token = in.readLong();
        advance(index, in.readLong(), events);
        Lock lock = locks.get(name);
        if (lock == null || lock.holder == null || lock.holder.token() != token) {
          return new Outcome(Status.CONFLICT, 0, 0, null, events);
        }
        end(index, name, lock, EventKind.RELEASED, events);
        return new Outcome(Status.RELEASED, token, 0, null, events);
      }
      case TICK:
        advance(index, in.readLong(), events);
        return new Outcome(Status.DONE, 0, 0, null, events);
      case RELEASE_NODE: {
        String node = in.readUTF();
        long at = in.readLong();
        // The node's waits end first, so that no lock this command hands on (here or in
        // advance) goes to the node and is then taken back: one grant per lock per command,
        // since the token is the command's index.
        endWaits(node, events);
        advance(index, at, events);
        releaseHolders(index, node, events);
        return new Outcome(Status.DONE, 0, 0, null, events);
      }
      default:
        throw new IOException("unknown lock command " + op);
    }
  }

  private Outcome acquire(long index, String name, String holder, String node,
      String requestId, long leaseMs, long waitMs, List<Event> events) {
    Request seen = requests.get(requestId);
    if (seen != null) {
      Lock lock = locks.get(seen.name());
      switch (seen.state()) {
        case GRANTED: {
          Holder h = lock == null ? null : lock.holder;
          if (h != null && h.token() == seen.token()) {
            // What is left of the lease: the caller counts it from its retry.
            long left = Math.max(1, Math.min(h.leaseMs(), h.expiresAt() - now));
            return new Outcome(Status.GRANTED, h.token(), left, h.holder(), events);
          }
          return new Outcome(Status.CONFLICT, seen.token(), 0, null, events);
        }
        case WAITING:
          return new Outcome(Status.QUEUED, 0, 0, null, events);
        case TIMED_OUT:
          return new Outcome(Status.TIMEOUT, 0, 0, null, events);
        default:
          return new Outcome(Status.CONFLICT, seen.token(), 0, null, events);
      }
    }
    Lock lock = locks.computeIfAbsent(name, n -> new Lock());
    if (lock.holder == null && lock.waiters.isEmpty()) {
      grant(index, name, lock, new Waiter(requestId, holder, node, leaseMs, now), events);
      return new Outcome(Status.GRANTED, index, leaseMs, holder, events);
    }
    if (waitMs == 0) {
      remember(requestId, new Request(name, RequestState.TIMED_OUT, 0));
      return new Outcome(Status.TIMEOUT, 0, 0, null, events);
    }
    if (lock.waiters.size() >= waitersMax) {
      return new Outcome(Status.FULL, 0, 0, null, events);
    }
    Waiter w = new Waiter(requestId, holder, node, leaseMs, now + waitMs);
    lock.waiters.addLast(w);
    waitEnds.add(new Deadline(w.deadline(), name, requestId));
    remember(requestId, new Request(name, RequestState.WAITING, 0));
    return new Outcome(Status.QUEUED, 0, 0, null, events);
  }

  /** Moves time to {@code nowMs} (never back) and settles what ended by then. */
  private void advance(long index, long nowMs, List<Event> events) {
    now = Math.max(now, nowMs);
    if (extendLeases) {
      extendLeases = false;
      leaseEnds.clear();
      for (Map.Entry<String, Lock> e : locks.entrySet()) {
        Holder h = e.getValue().holder;
        if (h != null) {
          long until = Math.max(h.expiresAt(), now + h.leaseMs());
          e.getValue().holder = new Holder(h.requestId(), h.holder(), h.node(), h.token(),
              h.leaseMs(), until);
          leaseEnds.add(new Deadline(until, e.getKey(), h.requestId()));
        }
      }
    }
    while (!waitEnds.isEmpty() && waitEnds.first().at() <= now) {
      Deadline d = waitEnds.pollFirst();
      Lock lock = locks.get(d.name());
      if (lock != null && lock.waiters.removeIf(w -> w.requestId().equals(d.requestId()))) {
        waitEnded(d.name(), d.requestId(), events);
        dropIfIdle(d.name(), lock);
      }
    }
    while (!leaseEnds.isEmpty() && leaseEnds.first().at() <= now) {
      Deadline d = leaseEnds.pollFirst();
      Lock lock = locks.get(d.name());
      if (lock != null && lock.holder != null
          && lock.holder.requestId().equals(d.requestId())) {
        end(index, d.name(), lock, EventKind.EXPIRED, events);
      }
    }
  }

  /** Ends the holder's lease ({@code why}) and grants the lock to the first waiter. */
  private void end(long index, String name, Lock lock, EventKind why, List<Event> events) {
    Holder h = lock.holder;
    leaseEnds.remove(new Deadline(h.expiresAt(), name, h.requestId()));
    lock.holder = null;
    countLease(h.node(), -1);
    remember(h.requestId(), new Request(name, RequestState.ENDED, h.token()));
    events.add(new Event(why, name, h.requestId(), h.holder(), h.token(), h.leaseMs()));
    Waiter next = lock.waiters.pollFirst();
    if (next != null) {
      waitEnds.remove(new Deadline(next.deadline(), name, next.requestId()));
      grant(index, name, lock, next, events);
    } else {
      dropIfIdle(name, lock);
    }
  }

  private void grant(long index, String name, Lock lock, Waiter w, List<Event> events) {
    Holder h = new Holder(w.requestId(), w.holder(), w.node(), index, w.leaseMs(),
        now + w.leaseMs());
    lock.holder = h;
    lock.lastToken = index;
    countLease(h.node(), 1);
    leaseEnds.add(new Deadline(h.expiresAt(), name, h.requestId()));
    remember(w.requestId(), new Request(name, RequestState.GRANTED, index));
    events.add(new Event(EventKind.GRANTED, name, w.requestId(), w.holder(), index,
        w.leaseMs()));
  }

  private void endWaits(String node, List<Event> events) {
    for (String name : new ArrayList<>(locks.keySet())) {
      Lock lock = locks.get(name);
      for (Iterator<Waiter> it = lock.waiters.iterator(); it.hasNext();) {
        Waiter w = it.next();
        if (w.node().equals(node)) {
          it.remove();
          waitEnds.remove(new Deadline(w.deadline(), name, w.requestId()));
          waitEnded(name, w.requestId(), events);
        }
      }
      dropIfIdle(name, lock);
    }
  }

  private void releaseHolders(long index, String node, List<Event> events) {
    for (String name : new ArrayList<>(locks.keySet())) {
      Lock lock = locks.get(name);
      if (lock != null && lock.holder != null && lock.holder.node().equals(node)) {
        end(index, name, lock, EventKind.NODE_LEFT, events);
      }
    }
  }

  private void waitEnded(String name, String requestId, List<Event> events) {
    remember(requestId, new Request(name, RequestState.TIMED_OUT, 0));
    events.add(new Event(EventKind.WAIT_ENDED, name, requestId, null, 0, 0));
  }

  private void dropIfIdle(String name, Lock lock) {
    if (lock.holder == null && lock.waiters.isEmpty()) {
      locks.remove(name);
    }
  }

  private void remember(String requestId, Request r) {
    requests.remove(requestId); // re-inserted last: forgotten last
    requests.put(requestId, r);
    if (requests.size() > REQUEST_IDS_MAX) {
      Iterator<String> oldest = requests.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
  }

  @Override
  public void onNewTerm(long index) {
    extendLeases = true;
  }

  // ---- queries

  /** The query for {@code name}'s state at the querying node's time {@code nowMs}. */
  public static byte[] info(String name, long nowMs) {
    return Bytes.write(out -> {
      out.writeByte(INFO);
      out.writeUTF(name);
      out.writeLong(nowMs);
    });
  }

  /** The query for the held locks, at most {@code max} of them, in name order. */
  public static byte[] held(int max, long nowMs) {
    return Bytes.write(out -> {
      out.writeByte(HELD);
      out.writeInt(max);
      out.writeLong(nowMs);
    });
  }

  @Override
  public byte[] query(byte[] query) {
    return Bytes.read(query, in -> {
      byte op = in.readByte();
      switch (op) {
        case INFO: {
          String name = in.readUTF();
          long at = in.readLong();
          return Bytes.write(out -> writeInfo(out, name, locks.get(name), at));
        }
        case HELD: {
          int max = in.readInt();
          long at = in.readLong();
          return Bytes.write(out -> {
            List<Map.Entry<String, Lock>> held = new ArrayList<>();
            for (Map.Entry<String, Lock> e : locks.entrySet()) {
              if (held.size() == max) {
                break;
              }
              if (e.getValue().holder != null) {
                held.add(e);
              }
            }
            out.writeInt(held.size());
            for (Map.Entry<String, Lock> e : held) {
              writeInfo(out, e.getKey(), e.getValue(), at);
            }
          });
        }
        default:
          throw new IOException("unknown lock query " + op);
      }
    });
  }

  private static void writeInfo(DataOutputStream out, String name, Lock lock, long at)
      throws IOException {
    Holder h = lock == null ? null : lock.holder;
    out.writeUTF(name);
    out.writeBoolean(h != null);
    out.writeLong(h == null ? 0 : h.token());
    writeNullable(out, h == null ? null : h.holder());
    out.writeLong(h == null ? 0 : Math.max(0, h.expiresAt() - at));
    out.writeInt(lock == null ? 0 : lock.waiters.size());
    out.writeLong(lock == null ? 0 : lock.lastToken);
  }

  private static Info readInfo(DataInputStream in) throws IOException {
    return new Info(in.readUTF(), in.readBoolean(), in.readLong(), readNullable(in),
        in.readLong(), in.readInt(), in.readLong());
  }

  /** Decodes the answer to {@link #info}. */
  public static Info decodeInfo(byte[] answer) {
    return Bytes.read(answer, LockMachine::readInfo);
  }

  /** Decodes the answer to {@link #held}. */
  public static List<Info> decodeHeld(byte[] answer) {
    return Bytes.read(answer, in -> {
      List<Info> out = new ArrayList<>();
      for (int n = in.readInt(); n > 0; n--) {
        out.add(readInfo(in));
      }
      return out;
    });
  }

  // ---- snapshots

  @Override
  public byte[] takeSnapshot(long index) {
    return Bytes.write(out -> {
      out.writeLong(now);
      out.writeBoolean(extendLeases);
      out.writeInt(locks.size());
      for (Map.Entry<String, Lock> e : locks.entrySet()) {
        Lock lock = e.getValue();
        out.writeUTF(e.getKey());
        out.writeLong(lock.lastToken);
        out.writeBoolean(lock.holder != null);
        if (lock.holder != null) {
          Holder h = lock.holder;
          out.writeUTF(h.requestId());
          out.writeUTF(h.holder());
          out.writeUTF(h.node());
          out.writeLong(h.token());
          out.writeLong(h.leaseMs());
          out.writeLong(h.expiresAt());
        }
        out.writeInt(lock.waiters.size());
        for (Waiter w : lock.waiters) {
          out.writeUTF(w.requestId());
          out.writeUTF(w.holder());
          out.writeUTF(w.node());
          out.writeLong(w.leaseMs());
          out.writeLong(w.deadline());
        }
      }
      out.writeInt(requests.size());
      for (Map.Entry<String, Request> e : requests.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeUTF(e.getValue().name());
        out.writeByte(e.getValue().state().ordinal());
        out.writeLong(e.getValue().token());
      }
    });
  }

  @Override
  public void installSnapshot(long index, byte[] snapshot) {
    locks.clear();
    leaseEnds.clear();
    waitEnds.clear();
    requests.clear();
    leasesByNode.clear();
    Bytes.read(snapshot, in -> {
      now = in.readLong();
      extendLeases = in.readBoolean();
      for (int n = in.readInt(); n > 0; n--) {
        String name = in.readUTF();
        Lock lock = new Lock();
        lock.lastToken = in.readLong();
        if (in.readBoolean()) {
          lock.holder = new Holder(in.readUTF(), in.readUTF(), in.readUTF(), in.readLong(),
              in.readLong(), in.readLong());
          leaseEnds.add(new Deadline(lock.holder.expiresAt(), name, lock.holder.requestId()));
          countLease(lock.holder.node(), 1);
        }
        for (int w = in.readInt(); w > 0; w--) {
          Waiter waiter = new Waiter(in.readUTF(), in.readUTF(), in.readUTF(), in.readLong(),
              in.readLong());
          lock.waiters.addLast(waiter);
          waitEnds.add(new Deadline(waiter.deadline(), name, waiter.requestId()));
        }
        locks.put(name, lock);
      }
      for (int n = in.readInt(); n > 0; n--) {
        requests.put(in.readUTF(), new Request(in.readUTF(),
            RequestState.values()[in.readByte()], in.readLong()));
      }
      return null;
    });
    publish();
  }

  private static void writeNullable(DataOutputStream out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      out.writeUTF(s);
    }
  }

  private static String readNullable(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readUTF() : null;
  }
}
