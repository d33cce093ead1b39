package io.keel.map;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.map.MapMachine.Fencing;
import io.keel.map.MapMachine.Found;
import io.keel.map.MapMachine.Result;
import io.keel.map.MapMachine.Status;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

class MapMachineTest {
  private final MapMachine machine = new MapMachine();
  private long index = 10;

  private Result put(String key, String value, long expect) {
    return put(key, value, expect, null, null);
  }

  private Result put(String key, String value, long expect, Fencing fence, String requestId) {
    index += 3;
    return Result.decode(machine.apply(index, MapMachine.put("m", key,
        value.getBytes(StandardCharsets.UTF_8), expect, fence, requestId)));
  }

  private Result delete(String key, long expect) {
    index += 3;
    return Result.decode(machine.apply(index, MapMachine.delete("m", key, expect, null, null)));
  }

  /** What a query answers; the same as what the machine finds in memory, checked each time. */
  private static Found get(MapMachine m, String map, String key) {
    Found queried = Found.decode(m.query(MapMachine.get(map, key)));
    Found found = m.find(map, key);
    assertThat(found.found()).isEqualTo(queried.found());
    assertThat(found.version()).isEqualTo(queried.version());
    assertThat(found.value()).isEqualTo(queried.value());
    return queried;
  }

  private static String text(Found f) {
    return new String(f.value(), StandardCharsets.UTF_8);
  }

  @Test
  void a_put_versions_the_entry_with_its_index_and_a_read_sees_it() {
    Result r = put("k", "\"a\"", MapMachine.ANY);
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.version()).isEqualTo(index);
    Found f = get(machine, "m", "k");
    assertThat(f.found()).isTrue();
    assertThat(f.version()).isEqualTo(index);
    assertThat(text(f)).isEqualTo("\"a\"");
    assertThat(get(machine, "other", "k").found()).isFalse();
    assertThat(machine.entryCount()).isEqualTo(1);
    assertThat(machine.byteCount()).isEqualTo(MapMachine.cost("k", 3));
  }

  @Test
  void compare_and_set_needs_the_current_version_and_changes_nothing_otherwise() {
    assertThat(put("k", "1", 5).status()).isEqualTo(Status.VERSION_CONFLICT);
    assertThat(get(machine, "m", "k").found()).isFalse();
    long v1 = put("k", "1", 0).version();
    Result absentOnly = put("k", "2", 0);
    assertThat(absentOnly.status()).isEqualTo(Status.VERSION_CONFLICT);
    assertThat(absentOnly.current()).isEqualTo(v1);
    Result stale = put("k", "2", v1 - 1);
    assertThat(stale.status()).isEqualTo(Status.VERSION_CONFLICT);
    assertThat(text(get(machine, "m", "k"))).isEqualTo("1");
    Result ok = put("k", "2", v1);
    assertThat(ok.status()).isEqualTo(Status.OK);
    assertThat(ok.version()).isGreaterThan(v1);
    assertThat(ok.current()).isEqualTo(v1);
    assertThat(text(get(machine, "m", "k"))).isEqualTo("2");
  }

  @Test
  void delete_removes_and_a_later_put_gets_a_higher_version() {
    long v1 = put("k", "1", MapMachine.ANY).version();
    assertThat(delete("k", v1 + 1).status()).isEqualTo(Status.VERSION_CONFLICT);
    Result d = delete("k", v1);
    assertThat(d.deleted()).isTrue();
    assertThat(d.version()).isEqualTo(v1);
    assertThat(get(machine, "m", "k").found()).isFalse();
    assertThat(machine.entryCount()).isZero();
    assertThat(machine.byteCount()).isZero();
    Result again = delete("k", MapMachine.ANY);
    assertThat(again.status()).isEqualTo(Status.OK);
    assertThat(again.deleted()).isFalse();
    assertThat(put("k", "2", 0).version()).isGreaterThan(v1);
  }

  @Test
  void a_fence_refuses_tokens_older_than_the_newest_accepted_per_lock_and_map() {
    assertThat(put("k", "1", MapMachine.ANY, new Fencing("L", 40), null).status())
        .isEqualTo(Status.OK);
    assertThat(put("j", "2", MapMachine.ANY, new Fencing("L", 40), null).status())
        .isEqualTo(Status.OK);
    Result old = put("k", "3", MapMachine.ANY, new Fencing("L", 39), null);
    assertThat(old.status()).isEqualTo(Status.FENCED);
    assertThat(old.fence()).isEqualTo(40);
    assertThat(text(get(machine, "m", "k"))).isEqualTo("1");
    // Other locks are not affected; an unfenced write neither.
    assertThat(put("k", "4", MapMachine.ANY, new Fencing("M", 1), null).status())
        .isEqualTo(Status.OK);
    assertThat(put("k", "5", MapMachine.ANY).status()).isEqualTo(Status.OK);
    // A refused write does not raise the fence.
    assertThat(put("k", "6", 1, new Fencing("L", 50), null).status())
        .isEqualTo(Status.VERSION_CONFLICT);
    assertThat(put("k", "7", MapMachine.ANY, new Fencing("L", 45), null).status())
        .isEqualTo(Status.OK);
  }

  @Test
  void a_retried_request_answers_its_first_result_and_changes_nothing() {
    Result first = put("k", "1", 0, null, "req-1");
    Result again = put("k", "1", 0, null, "req-1");
    assertThat(again).isEqualTo(first);
    assertThat(get(machine, "m", "k").version()).isEqualTo(first.version());
  }

  @Test
  void a_malformed_command_changes_nothing() {
    put("k", "1", MapMachine.ANY);
    byte[] snapshot = machine.takeSnapshot(index);
    for (byte[] bad : new byte[][] {{}, {9, 0, 1, 'm'}, {1, 0, 1, 'm', 0, 1, 'k'}}) {
      assertThat(Result.decode(machine.apply(++index, bad)).status())
          .isEqualTo(Status.MALFORMED);
    }
    byte[] truncated = MapMachine.put("m", "k", new byte[100], MapMachine.ANY, null, null);
    assertThat(Result.decode(machine.apply(++index, Arrays.copyOf(truncated, 60))).status())
        .isEqualTo(Status.MALFORMED);
    assertThat(machine.takeSnapshot(index)).isEqualTo(snapshot);
  }

  @Test
  void replicas_that_applied_the_same_entries_write_the_same_snapshot_whatever_the_key_order() {
    MapMachine a = new MapMachine();
    MapMachine b = new MapMachine();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      keys.add("key-" + i);
    }
    List<String> shuffled = new ArrayList<>(keys);
    Collections.shuffle(shuffled, new Random(7));
    for (int i = 0; i < keys.size(); i++) {
      a.apply(10 + i, MapMachine.put("m", keys.get(i), new byte[] {(byte) i}, MapMachine.ANY,
          null, null));
    }
    // b has each key at the same version and value, put in another order.
    for (String key : shuffled) {
      int i = keys.indexOf(key);
      b.apply(10 + i, MapMachine.put("m", key, new byte[] {(byte) i}, MapMachine.ANY, null,
          null));
    }
    byte[] snapshot = a.takeSnapshot(500);
    assertThat(b.takeSnapshot(500)).isEqualTo(snapshot);
    MapMachine c = new MapMachine();
    c.installSnapshot(500, snapshot);
    assertThat(c.takeSnapshot(500)).isEqualTo(snapshot);
    assertThat(get(c, "m", "key-123").version()).isEqualTo(133);
  }

  /**
   * Random commands against a plain model; at random points the state goes through a snapshot
   * into a fresh machine, which must go on answering exactly as the model.
   */
  @Test
  void random_histories_match_a_model_through_snapshots() {
    for (int seed = 0; seed < 50; seed++) {
      Random random = new Random(seed);
      // What the machines told of their byte counts, less that of machines dropped since.
      LongAdder told = new LongAdder();
      MapMachine m = new MapMachine(told::add);
      Map<String, long[]> versions = new HashMap<>();
      Map<String, String> values = new HashMap<>();
      Map<String, Long> fences = new HashMap<>();
      long at = 1;
      for (int step = 0; step < 400; step++) {
        at += 1 + random.nextInt(3);
        String key = "k" + random.nextInt(8);
        long current = versions.containsKey(key) ? versions.get(key)[0] : 0;
        long expect = switch (random.nextInt(4)) {
          case 0 -> current;
          case 1 -> random.nextInt(3) == 0 ? 0 : current + 1;
          default -> MapMachine.ANY;
        };
        Fencing fence = random.nextInt(3) == 0
            ? new Fencing("L" + random.nextInt(2), random.nextInt(20)) : null;
        boolean fenced = fence != null && fence.token() < fences.getOrDefault(fence.lock(), 0L);
        boolean conflict = !fenced && expect != MapMachine.ANY && expect != current;
        Result r;
        if (random.nextInt(4) == 0) {
          r = Result.decode(m.apply(at, MapMachine.delete("m", key, expect, fence, null)));
          if (!fenced && !conflict && current > 0) {
            versions.remove(key);
            values.remove(key);
            fences.merge(fence == null ? "" : fence.lock(), fence == null ? 0 : fence.token(),
                Math::max);
          }
        } else {
          String value = "v" + step;
          r = Result.decode(m.apply(at, MapMachine.put("m", key,
              value.getBytes(StandardCharsets.UTF_8), expect, fence, null)));
          if (!fenced && !conflict) {
            versions.put(key, new long[] {at});
            values.put(key, value);
            fences.merge(fence == null ? "" : fence.lock(), fence == null ? 0 : fence.token(),
                Math::max);
          }
        }
        assertThat(r.status()).as("seed %d step %d", seed, step).isEqualTo(
            fenced ? Status.FENCED : conflict ? Status.VERSION_CONFLICT : Status.OK);
        if (random.nextInt(50) == 0) {
          MapMachine copy = new MapMachine(told::add);
          copy.installSnapshot(at, m.takeSnapshot(at));
          assertThat(copy.entryCount()).isEqualTo(m.entryCount());
          assertThat(copy.byteCount()).isEqualTo(m.byteCount());
          told.add(-m.byteCount());
          m = copy;
        }
        long modelBytes = values.entrySet().stream().mapToLong(e -> MapMachine.cost(e.getKey(),
            e.getValue().getBytes(StandardCharsets.UTF_8).length)).sum();
        assertThat(m.byteCount()).as("seed %d step %d", seed, step).isEqualTo(modelBytes);
        assertThat(told.sum()).as("seed %d step %d", seed, step).isEqualTo(modelBytes);
        for (int k = 0; k < 8; k++) {
          Found f = get(m, "m", "k" + k);
          assertThat(f.found()).isEqualTo(values.containsKey("k" + k));
          if (f.found()) {
            assertThat(text(f)).isEqualTo(values.get("k" + k));
            assertThat(f.version()).isEqualTo(versions.get("k" + k)[0]);
          }
        }
      }
      assertThat(m.entryCount()).isEqualTo(values.size());
    }
  }
}
