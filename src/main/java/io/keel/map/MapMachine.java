package io.keel.map;

import io.keel.recovery.Bytes;
import io.keel.recovery.PartitionStateMachine;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongConsumer;

/**
 * The entries of every replicated map in one partition, behind {@code keel.map.*}
 * ({@link MapService}): per map name, per key, a value and a version.
 *
 * <p>A change (a put, or a delete of a present key) gives the entry the log index of the command
 * as its version, so versions of a key only grow, across deletes and leader changes alike. A
 * command may expect a version ({@link #ANY} = whatever it is, 0 = absent) and may carry a fence:
 * a lock name and a token, refused when the token is older than the highest this partition
 * accepted for that lock in that map ({@code Fence}'s rule). A refused command changes nothing,
 * the fence neither. A command with a request id that was applied before (within the last
 * {@link #REQUEST_IDS_MAX}) answers its first result again and changes nothing.
 *
 * <p>Values are opaque bytes here (the entry node encodes them as JSON text). The machine
 * publishes its entry count and size for the node's memory budget. Deterministic: snapshots
 * written in key order, request ids forgotten in the order they were applied. Pure: no Vert.x,
 * no I/O.
 */
public final class MapMachine implements PartitionStateMachine {
  /** Its name in a partition's {@code MachineSet}. */
  public static final String NAME = "keel.map";
  /** As an expected version: no expectation. */
  public static final long ANY = -1;
  /** How many recent request ids each partition remembers. */
  static final int REQUEST_IDS_MAX = 100_000;
  /**
   * What an entry costs beyond its key and value on the heap, roughly: its hash-table node,
   * record, array and string headers, and its share of the request ids and the log tail kept
   * with it.
   * Measured: about 650 B of heap per entry of a 100 B value at 760,000 entries.
   */
  static final int ENTRY_OVERHEAD_BYTES = 500;

  private static final byte PUT = 1;
  private static final byte DELETE = 2;

  /** How a command ended. */
  public enum Status {
    /** Done (a delete of an absent key too: {@link Result#deleted()} says which). */
    OK,
    /** The entry's version was not the one expected; {@link Result#current()} is. */
    VERSION_CONFLICT,
    /** The fence token was older than {@link Result#fence()}, the highest accepted. */
    FENCED,
    /** The command could not be read; nothing changed. */
    MALFORMED
  }

  /**
   * The answer to a command: its status; the entry's new version (a put) or the version it had
   * (a delete); the version it had when a command was refused (0 = absent); whether a delete
   * removed an entry; and the highest token of the fence that refused it.
   */
  public record Result(Status status, long version, long current, boolean deleted, long fence) {
    static final Result MALFORMED_RESULT = new Result(Status.MALFORMED, 0, 0, false, 0);

    byte[] encode() {
      return Bytes.write(out -> {
        out.writeByte(status.ordinal());
        out.writeLong(version);
        out.writeLong(current);
        out.writeBoolean(deleted);
        out.writeLong(fence);
      });
    }

    /** Decodes a command's answer. */
    public static Result decode(byte[] bytes) {
      if (bytes.length == 0) {
        return MALFORMED_RESULT;
      }
      return Bytes.read(bytes, in -> new Result(Status.values()[in.readByte()], in.readLong(),
          in.readLong(), in.readBoolean(), in.readLong()));
    }
  }

  /** What a read found: {@code version} 0 and {@code value} null when the key is absent. */
  public record Found(long version, byte[] value) {
    /** Whether the key has an entry. */
    public boolean found() {
      return value != null;
    }

    /** Decodes a {@link #get} query's answer. */
    public static Found decode(byte[] bytes) {
      return Bytes.read(bytes, in -> {
        if (!in.readBoolean()) {
          return new Found(0, null);
        }
        long version = in.readLong();
        return new Found(version, readBytes(in));
      });
    }
  }

  /** A fence on a command: the lock it is made under and that grant's token. */
  public record Fencing(String lock, long token) {}

  private record Entry(long version, byte[] value) {}

  // Entries by key in a hash table (a lookup per get and put: a sorted tree's lookups were 6% of
  // a leader's CPU under gets); a snapshot sorts them, so that replicas write the same bytes.
  private final TreeMap<String, HashMap<String, Entry>> maps = new TreeMap<>();
  private final TreeMap<String, TreeMap<String, Long>> fences = new TreeMap<>();
  // Oldest first: the first entry is the next one forgotten.
  private final LinkedHashMap<String, Result> applied = new LinkedHashMap<>();
  // Written by the group's thread, read by the node's memory budget and status.
  private volatile long entryCount;
  private volatile long byteCount;
  // Hears every change of byteCount, after it is made.
  private final LongConsumer byteChanges;

  /** A machine of its own. */
  public MapMachine() {
    this(delta -> { });
  }

  /**
   * A machine that tells {@code byteChanges} each change of its {@link #byteCount()}, after
   * making it: how a node keeps a running total over its machines without visiting them all.
   */
  public MapMachine(LongConsumer byteChanges) {
    this.byteChanges = byteChanges;
  }

  private void addBytes(long delta) {
    byteCount += delta;
    byteChanges.accept(delta);
  }

  /**
   * The command that sets {@code key} of {@code map} to {@code value}, if its version is
   * {@code expect} ({@link #ANY}: whatever it is; 0: absent). {@code fencing} and
   * {@code requestId} may be null.
   */
  public static byte[] put(String map, String key, byte[] value, long expect, Fencing fencing,
      String requestId) {
    return Bytes.write(out -> {
      out.writeByte(PUT);
      writeHead(out, map, key, expect, fencing, requestId);
      writeBytes(out, value);
    });
  }

  /** The command that deletes {@code key} of {@code map}, if its version is {@code expect}. */
  public static byte[] delete(String map, String key, long expect, Fencing fencing,
      String requestId) {
    return Bytes.write(out -> {
      out.writeByte(DELETE);
      writeHead(out, map, key, expect, fencing, requestId);
    });
  }

  /** The query that reads {@code key} of {@code map}. */
  public static byte[] get(String map, String key) {
    return Bytes.write(out -> {
      out.writeUTF(map);
      out.writeUTF(key);
    });
  }

  private static void writeHead(DataOutputStream out, String map, String key, long expect,
      Fencing fencing, String requestId) throws IOException {
    out.writeUTF(map);
    out.writeUTF(key);
    out.writeLong(expect);
    out.writeUTF(fencing == null ? "" : fencing.lock());
    out.writeLong(fencing == null ? 0 : fencing.token());
    out.writeUTF(requestId == null ? "" : requestId);
  }

  /** How many entries this partition holds. */
  public long entryCount() {
    return entryCount;
  }

  /** Roughly how many heap bytes this partition's entries take. */
  public long byteCount() {
    return byteCount;
  }

  /** What an entry of {@code key} and {@code valueBytes} counts against a memory budget. */
  public static long cost(String key, int valueBytes) {
    return ENTRY_OVERHEAD_BYTES + 2L * key.length() + valueBytes;
  }

  @Override
  public byte[] apply(long index, byte[] command) {
    record Command(byte op, String map, String key, long expect, String lock, long token,
        String requestId, byte[] value) {}
    Command c;
    try {
      c = Bytes.read(command, in -> {
        byte op = in.readByte();
        String map = in.readUTF();
        String key = in.readUTF();
        long expect = in.readLong();
        String lock = in.readUTF();
        long token = in.readLong();
        String requestId = in.readUTF();
        byte[] value = op == PUT ? readBytes(in) : null;
        if (op != PUT && op != DELETE) {
          throw new IOException("unknown map command " + op);
        }
        return new Command(op, map, key, expect, lock, token, requestId, value);
      });
    } catch (IllegalArgumentException e) {
      return Result.MALFORMED_RESULT.encode();
    }
    if (!c.requestId().isEmpty() && applied.containsKey(c.requestId())) {
      return applied.get(c.requestId()).encode();
    }
    Result result = c.op() == PUT
        ? put(index, c.map(), c.key(), c.value(), c.expect(), c.lock(), c.token())
        : delete(c.map(), c.key(), c.expect(), c.lock(), c.token());
    if (!c.requestId().isEmpty()) {
      applied.put(c.requestId(), result);
      if (applied.size() > REQUEST_IDS_MAX) {
        Iterator<Map.Entry<String, Result>> oldest = applied.entrySet().iterator();
        oldest.next();
        oldest.remove();
      }
    }
    return result.encode();
  }

  private Result put(long index, String map, String key, byte[] value, long expect, String lock,
      long token) {
    HashMap<String, Entry> entries = maps.get(map);
    Entry old = entries == null ? null : entries.get(key);
    Result refused = refusal(map, old, expect, lock, token);
    if (refused != null) {
      return refused;
    }
    acceptFence(map, lock, token);
    maps.computeIfAbsent(map, m -> new HashMap<>()).put(key, new Entry(index, value));
    if (old == null) {
      entryCount++;
    }
    addBytes(cost(key, value.length) - (old == null ? 0 : cost(key, old.value().length)));
    return new Result(Status.OK, index, old == null ? 0 : old.version(), false, 0);
  }

  private Result delete(String map, String key, long expect, String lock, long token) {
    HashMap<String, Entry> entries = maps.get(map);
    Entry old = entries == null ? null : entries.get(key);
    Result refused = refusal(map, old, expect, lock, token);
    if (refused != null) {
      return refused;
    }
    if (old == null) {
      return new Result(Status.OK, 0, 0, false, 0);
    }
    acceptFence(map, lock, token);
    entries.remove(key);
    if (entries.isEmpty()) {
      maps.remove(map);
    }
    entryCount--;
    addBytes(-cost(key, old.value().length));
    return new Result(Status.OK, old.version(), old.version(), true, 0);
  }

  /** Why a command on {@code old} may not happen, or null when it may. */
  private Result refusal(String map, Entry old, long expect, String lock, long token) {
    long current = old == null ? 0 : old.version();
    if (!lock.isEmpty()) {
      TreeMap<String, Long> seen = fences.get(map);
      long highest = seen == null ? 0 : seen.getOrDefault(lock, 0L);
      if (token < highest) {
        return new Result(Status.FENCED, 0, current, false, highest);
      }
    }
    if (expect != ANY && expect != current) {
      return new Result(Status.VERSION_CONFLICT, 0, current, false, 0);
    }
    return null;
  }

  private void acceptFence(String map, String lock, long token) {
    if (!lock.isEmpty()) {
      fences.computeIfAbsent(map, m -> new TreeMap<>()).merge(lock, token, Math::max);
    }
  }

  @Override
  public byte[] query(byte[] query) {
    String[] mapKey = Bytes.read(query, in -> new String[] {in.readUTF(), in.readUTF()});
    Found f = find(mapKey[0], mapKey[1]);
    return Bytes.write(out -> {
      out.writeBoolean(f.found());
      if (f.found()) {
        out.writeLong(f.version());
        writeBytes(out, f.value());
      }
    });
  }

  /**
   * The entry of {@code key} in {@code map}, read in memory (see {@code PartitionGroups.read});
   * {@link #query} answers the same to {@link #get}{@code (map, key)} as bytes. The value is the
   * machine's own array, which a change replaces and never edits; callers must not change it.
   */
  public Found find(String map, String key) {
    HashMap<String, Entry> entries = maps.get(map);
    Entry e = entries == null ? null : entries.get(key);
    return e == null ? new Found(0, null) : new Found(e.version(), e.value());
  }

  @Override
  public byte[] takeSnapshot(long index) {
    return Bytes.write(out -> {
      out.writeInt(maps.size());
      for (Map.Entry<String, HashMap<String, Entry>> m : maps.entrySet()) {
        out.writeUTF(m.getKey());
        out.writeInt(m.getValue().size());
        for (Map.Entry<String, Entry> e : new TreeMap<>(m.getValue()).entrySet()) {
          out.writeUTF(e.getKey());
          out.writeLong(e.getValue().version());
          writeBytes(out, e.getValue().value());
        }
      }
      out.writeInt(fences.size());
      for (Map.Entry<String, TreeMap<String, Long>> m : fences.entrySet()) {
        out.writeUTF(m.getKey());
        out.writeInt(m.getValue().size());
        for (Map.Entry<String, Long> f : m.getValue().entrySet()) {
          out.writeUTF(f.getKey());
          out.writeLong(f.getValue());
        }
      }
      out.writeInt(applied.size());
      for (Map.Entry<String, Result> e : applied.entrySet()) {
        out.writeUTF(e.getKey());
        byte[] r = e.getValue().encode();
        writeBytes(out, r);
      }
    });
  }

  @Override
  public void installSnapshot(long index, byte[] snapshot) {
    maps.clear();
    fences.clear();
    applied.clear();
    long[] counts = new long[2];
    Bytes.read(snapshot, in -> {
      for (int n = in.readInt(); n > 0; n--) {
        HashMap<String, Entry> entries = new HashMap<>();
        maps.put(in.readUTF(), entries);
        for (int k = in.readInt(); k > 0; k--) {
          String key = in.readUTF();
          Entry e = new Entry(in.readLong(), readBytes(in));
          entries.put(key, e);
          counts[0]++;
          counts[1] += cost(key, e.value().length);
        }
      }
      for (int n = in.readInt(); n > 0; n--) {
        TreeMap<String, Long> seen = new TreeMap<>();
        fences.put(in.readUTF(), seen);
        for (int k = in.readInt(); k > 0; k--) {
          seen.put(in.readUTF(), in.readLong());
        }
      }
      for (int n = in.readInt(); n > 0; n--) {
        applied.put(in.readUTF(), Result.decode(readBytes(in)));
      }
      return null;
    });
    entryCount = counts[0];
    addBytes(counts[1] - byteCount);
  }

  private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > in.available()) {
      throw new IOException("a length of " + length + " bytes where " + in.available()
          + " remain");
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return bytes;
  }
}
