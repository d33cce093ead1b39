package io.keel.bench;

import com.google.common.hash.Hashing;
import io.keel.routing.Member;
import io.keel.routing.PartitionTable;
import io.keel.routing.PlacementConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Key to replica set: Keel's partition table against the two usual Java answers, a
 * {@code TreeMap} ring of MD5 points and Guava's {@code Hashing.consistentHash}. Run with
 * {@code -prof gc} to see the bytes allocated per lookup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PlacementBenchmark {

  private static final int KEYS = 1 << 14;
  private static final int RING_POINTS_PER_MEMBER = 160;

  /** Cluster size. */
  @Param({"10", "100"})
  public int members;

  private String[] keys;
  private int next;
  private PartitionTable table;
  private TreeMap<Long, String> ring;
  private String[] names;
  private int replicas;

  /** Builds the keys, the table and the anchor ring. */
  @Setup
  public void setup() throws NoSuchAlgorithmException {
    SplittableRandom random = new SplittableRandom(42);
    keys = new String[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "user:" + random.nextLong();
    }
    List<Member> list = new ArrayList<>();
    names = new String[members];
    for (int i = 0; i < members; i++) {
      names[i] = "node-" + Long.toHexString(random.nextLong());
      list.add(new Member(names[i], 1));
    }
    table = PartitionTable.compute(1, list, PlacementConfig.defaults());
    replicas = PlacementConfig.DEFAULT_REPLICAS;
    ring = new TreeMap<>();
    for (String name : names) {
      for (int v = 0; v < RING_POINTS_PER_MEMBER; v++) {
        ring.put(md5Long(name + "#" + v), name);
      }
    }
  }

  private String nextKey() {
    return keys[next++ & (KEYS - 1)];
  }

  /** Keel: hash, modulo, array read of a precomputed replica list. */
  @Benchmark
  public List<String> keel_replicasOf() {
    return table.replicasOf(nextKey());
  }

  /** Keel: the primary only. */
  @Benchmark
  public String keel_primaryOf() {
    return table.primaryOf(nextKey());
  }

  /** The common Java ring: MD5 of the key, {@code ceilingEntry}, wrap to the first entry. */
  @Benchmark
  public String treeMapRing_primary() throws NoSuchAlgorithmException {
    Map.Entry<Long, String> e = ring.ceilingEntry(md5Long(nextKey()));
    return e != null ? e.getValue() : ring.firstEntry().getValue();
  }

  /** The same ring walked clockwise to R distinct members, as a replica set. */
  @Benchmark
  public List<String> treeMapRing_replicas() throws NoSuchAlgorithmException {
    long h = md5Long(nextKey());
    List<String> out = new ArrayList<>(replicas);
    for (String name : ring.tailMap(h, true).values()) {
      if (!out.contains(name) && out.add(name) && out.size() == replicas) {
        return out;
      }
    }
    for (String name : ring.values()) {
      if (!out.contains(name) && out.add(name) && out.size() == replicas) {
        return out;
      }
    }
    return out;
  }

  /** Guava: Murmur3-128 of the key, then jump consistent hash over the bucket count. */
  @Benchmark
  public String guava_consistentHash() {
    int bucket = Hashing.consistentHash(
        Hashing.murmur3_128().hashString(nextKey(), StandardCharsets.UTF_8), names.length);
    return names[bucket];
  }

  /** The first 8 bytes of the MD5 of the UTF-8 key, big-endian, as rings commonly do. */
  static long md5Long(String key) throws NoSuchAlgorithmException {
    byte[] d = MessageDigest.getInstance("MD5").digest(key.getBytes(StandardCharsets.UTF_8));
    long h = 0;
    for (int i = 0; i < 8; i++) {
      h = (h << 8) | (d[i] & 0xFF);
    }
    return h;
  }
}
