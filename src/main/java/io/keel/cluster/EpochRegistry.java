package io.keel.cluster;

import com.hazelcast.config.MapConfig;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Cluster-wide agreement on the epoch of each partition table.
 *
 * <p>Every node computes the table from the member list alone; what it cannot compute alone is
 * a number that means the same table on every node. One Hazelcast map entry holds the newest
 * {@code (epoch, fingerprint)} pair, where the fingerprint names the table's inputs (config and
 * data members). A node whose view changes asks for its fingerprint's epoch: if the entry holds
 * that fingerprint, the epoch is adopted; otherwise the node replaces the entry, by
 * compare-and-set, with a greater epoch and its own fingerprint. So one epoch never names two
 * tables, and nodes with the same view end on the same epoch: the last node whose view changed
 * wrote it, and the others adopt it when the entry's update reaches them.
 *
 * <p>Values are plain strings so that members without Keel's classes can hold the entry. The map
 * keeps a backup on every member ({@code cluster.xml}), and each node also persists the epoch it
 * last used, which becomes the floor after a whole-cluster restart: epochs only grow.
 *
 * <p>Hazelcast calls block: they run on worker threads, never on an event loop.
 */
public final class EpochRegistry {
  static final String MAP = "keel.epoch";
  static final String KEY = "table";
  /** Hazelcast's most synchronous backups: with fewer members, every member has the entry. */
  private static final int BACKUPS = 6;
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(EpochRegistry.class);
  private static final int CAS_ATTEMPTS_MAX = 64;

  /** One stored pair. */
  public record Entry(long epoch, String fingerprint) {
    String encode() {
      return epoch + "|" + fingerprint;
    }

    static Entry decode(String s) {
      int bar = s.indexOf('|');
      return new Entry(Long.parseLong(s.substring(0, bar)), s.substring(bar + 1));
    }
  }

  private final Context context;
  private final IMap<String, String> map;
  private UUID listenerId;

  EpochRegistry(Context context, IMap<String, String> map) {
    this.context = context;
    this.map = map;
  }

  /**
   * The registry of the cluster {@code manager} belongs to, answering on {@code context}. Also
   * asks Hazelcast to keep the entry on every member, for embedders whose own configuration
   * lacks Keel's map settings; a conflicting setting of theirs wins. Blocks: call it on a worker
   * thread.
   */
  public static EpochRegistry open(Context context, HazelcastClusterManager manager) {
    HazelcastInstance hz = manager.getHazelcastInstance();
    try {
      hz.getConfig().addMapConfig(new MapConfig(MAP).setBackupCount(BACKUPS));
    } catch (RuntimeException e) {
      log.info("keeping the configured {} map settings: {}", MAP, e.getMessage());
    }
    return new EpochRegistry(context, hz.getMap(MAP));
  }

  /**
   * The epoch of the table named {@code fingerprint}: the stored one when it names the same table
   * and is not below {@code floor}, otherwise a new epoch greater than both the stored one and
   * {@code floor}.
   */
  public Future<Long> agree(String fingerprint, long floor) {
    return context.executeBlocking(() -> agreeBlocking(fingerprint, floor), false);
  }

  private long agreeBlocking(String fingerprint, long floor) {
    for (int i = 0; i < CAS_ATTEMPTS_MAX; i++) {
      String raw = map.get(KEY);
      if (raw == null) {
        Entry next = new Entry(floor + 1, fingerprint);
        if (map.putIfAbsent(KEY, next.encode()) == null) {
          return next.epoch();
        }
        continue;
      }
      Entry cur = Entry.decode(raw);
      if (cur.fingerprint().equals(fingerprint) && cur.epoch() >= floor) {
        return cur.epoch();
      }
      Entry next = new Entry(Math.max(cur.epoch(), floor) + 1, fingerprint);
      if (map.replace(KEY, raw, next.encode())) {
        return next.epoch();
      }
    }
    throw new IllegalStateException("no epoch agreed after " + CAS_ATTEMPTS_MAX + " attempts");
  }

  /**
   * The stored pair, or null when there is none: for a node that may have missed an update
   * (Hazelcast does not redeliver an entry event lost while members come and go).
   */
  public Future<Entry> read() {
    return context.executeBlocking(() -> {
      String raw = map.get(KEY);
      return raw == null ? null : Entry.decode(raw);
    }, false);
  }

  /** Calls {@code listener} on the context with every new stored pair. */
  public void watch(Consumer<Entry> listener) {
    class Watcher implements EntryAddedListener<String, String>,
        EntryUpdatedListener<String, String> {
      @Override
      public void entryAdded(EntryEvent<String, String> event) {
        forward(event.getValue());
      }

      @Override
      public void entryUpdated(EntryEvent<String, String> event) {
        forward(event.getValue());
      }

      private void forward(String value) {
        if (value != null) {
          Entry e = Entry.decode(value);
          context.runOnContext(v -> listener.accept(e));
        }
      }
    }
    listenerId = map.addEntryListener(new Watcher(), KEY, true);
  }

  /** Stops watching. */
  public void stop() {
    try {
      if (listenerId != null) {
        map.removeEntryListener(listenerId);
      }
    } catch (RuntimeException ignored) {
      // The instance is shutting down: nothing left to remove.
    }
  }
}
