package io.keel.recovery;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counters by key: the smallest useful replicated state, behind {@code keel.counter.add} and
 * {@code keel.counter.get}. Operators use it to check that a cluster replicates and survives
 * failures (the README's tour does), and the recovery tests write through it.
 *
 * <p>Commands and answers are JSON. {@code {key, delta, requestId?}} adds {@code delta} and
 * answers {@code {key, value, index}}; a command whose {@code requestId} was applied before
 * (within the last {@link #REQUEST_IDS_MAX} ids) answers the first result again and changes
 * nothing, so a client may retry an add whose outcome it did not learn. A query {@code {key}}
 * answers {@code {key, value}}. Deterministic: sorted counters, and request ids forgotten in the
 * order they were applied.
 */
public final class CounterMachine implements PartitionStateMachine {
  /** Its name in a partition's {@link MachineSet}. */
  public static final String NAME = "keel.counter";
  /** How many recent request ids each partition remembers. */
  static final int REQUEST_IDS_MAX = 100_000;

  private final TreeMap<String, Long> counters = new TreeMap<>();
  private final LinkedHashMap<String, JsonObject> applied = new LinkedHashMap<>();

  /** The command that adds {@code delta} to {@code key}. */
  public static byte[] add(String key, long delta, String requestId) {
    JsonObject c = new JsonObject().put("key", key).put("delta", delta);
    if (requestId != null) {
      c.put("requestId", requestId);
    }
    return c.toBuffer().getBytes();
  }

  /** The query that reads {@code key}. */
  public static byte[] get(String key) {
    return new JsonObject().put("key", key).toBuffer().getBytes();
  }

  @Override
  public byte[] apply(long index, byte[] command) {
    JsonObject c;
    try {
      c = new JsonObject(Buffer.buffer(command));
    } catch (RuntimeException e) {
      return new JsonObject().put("error", "not a JSON object").toBuffer().getBytes();
    }
    String key = c.getValue("key") instanceof String s ? s : null;
    Object delta = c.getValue("delta");
    if (key == null || !(delta instanceof Number)) {
      return new JsonObject().put("error", "a counter command needs a key and a delta")
          .toBuffer().getBytes();
    }
    String requestId = c.getValue("requestId") instanceof String s ? s : null;
    if (requestId != null && applied.containsKey(requestId)) {
      return applied.get(requestId).toBuffer().getBytes();
    }
    long value = counters.merge(key, ((Number) delta).longValue(), Long::sum);
    JsonObject result = new JsonObject().put("key", key).put("value", value).put("index", index);
    if (requestId != null) {
      applied.put(requestId, result);
      if (applied.size() > REQUEST_IDS_MAX) {
        Iterator<Map.Entry<String, JsonObject>> oldest = applied.entrySet().iterator();
        oldest.next();
        oldest.remove();
      }
    }
    return result.toBuffer().getBytes();
  }

  @Override
  public byte[] query(byte[] query) {
    String key = new JsonObject(Buffer.buffer(query)).getString("key");
    return new JsonObject().put("key", key).put("value", counters.getOrDefault(key, 0L))
        .toBuffer().getBytes();
  }

  @Override
  public byte[] takeSnapshot(long index) {
    JsonObject c = new JsonObject();
    counters.forEach(c::put);
    JsonObject ids = new JsonObject();
    applied.forEach(ids::put);
    return new JsonObject().put("counters", c).put("applied", ids).toBuffer().getBytes();
  }

  @Override
  public void installSnapshot(long index, byte[] snapshot) {
    JsonObject s = new JsonObject(Buffer.buffer(snapshot));
    counters.clear();
    applied.clear();
    s.getJsonObject("counters").forEach(e -> counters.put(e.getKey(), ((Number) e.getValue())
        .longValue()));
    s.getJsonObject("applied").forEach(e -> applied.put(e.getKey(), (JsonObject) e.getValue()));
  }
}
