package io.keel.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Table-driven cases and golden values of the partition table. */
class PartitionTableTest {

  private static final List<Member> FIVE = List.of(Member.of("alpha"), Member.of("bravo"),
      Member.of("charlie"), Member.of("delta"), Member.of("echo"));

  @Test
  void empty_table_has_no_primaries_and_empty_replica_sets() {
    PartitionTable t = PartitionTable.empty(PlacementConfig.defaults());
    assertThat(t.epoch()).isZero();
    assertThat(t.partitionCount()).isEqualTo(PlacementConfig.DEFAULT_PARTITIONS);
    assertThat(t.members()).isEmpty();
    assertThat(t.primary(0)).isNull();
    assertThat(t.replicas(7)).isEmpty();
    assertThat(t.primaryOf("k")).isNull();
    assertThat(t.replicasOf("k")).isEmpty();
    assertThat(t.primaryPartitions("alpha")).isEmpty();
    assertThat(PartitionTable.compute(3, List.of(), PlacementConfig.defaults()))
        .isEqualTo(t).extracting(PartitionTable::epoch).isEqualTo(3L);
  }

  @Test
  void duplicate_member_names_are_rejected() {
    assertThatThrownBy(() -> PartitionTable.compute(1,
        List.of(Member.of("a"), new Member("a", 2)), PlacementConfig.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duplicate member name a");
  }

  @Test
  void a_single_member_holds_every_partition_alone() {
    PartitionTable t = PartitionTable.compute(1, List.of(Member.of("solo")),
        PlacementConfig.defaults());
    for (int p = 0; p < t.partitionCount(); p++) {
      assertThat(t.replicas(p)).containsExactly("solo");
    }
    assertThat(t.primaryPartitions("solo")).hasSize(t.partitionCount());
  }

  @Test
  void fewer_members_than_replicas_gives_every_member_every_partition() {
    PartitionTable t = PartitionTable.compute(1, List.of(Member.of("a"), Member.of("b")),
        PlacementConfig.defaults());
    for (int p = 0; p < t.partitionCount(); p++) {
      assertThat(t.replicas(p)).containsExactlyInAnyOrder("a", "b");
    }
  }

  @Test
  void key_lookups_agree_with_the_partition_of_the_key_hash() {
    PartitionTable t = PartitionTable.compute(1, FIVE, PlacementConfig.defaults());
    for (String key : List.of("", "user:1", "ключ", "\uD83D\uDE00")) {
      int p = KeyHash.partition(KeyHash.hash64(key), t.partitionCount());
      assertThat(t.partitionOf(key)).isEqualTo(p);
      assertThat(t.primaryOf(key)).isEqualTo(t.primary(p)).isEqualTo(t.replicas(p).get(0));
      assertThat(t.replicasOf(key)).isSameAs(t.replicas(p));
    }
  }

  @Test
  void replica_lists_are_unmodifiable() {
    PartitionTable t = PartitionTable.compute(1, FIVE, PlacementConfig.defaults());
    assertThatThrownBy(() -> t.replicas(0).add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> t.members().clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void member_partitions_are_sorted_and_match_the_table() {
    PartitionTable t = PartitionTable.compute(1, FIVE, PlacementConfig.defaults());
    int primaries = 0;
    int slots = 0;
    for (Member m : FIVE) {
      int[] primary = t.primaryPartitions(m.name());
      int[] replica = t.replicaPartitions(m.name());
      assertThat(primary).isSorted();
      assertThat(replica).isSorted().contains(primary);
      for (int p : replica) {
        assertThat(t.replicas(p)).contains(m.name());
      }
      primaries += primary.length;
      slots += replica.length;
    }
    assertThat(primaries).isEqualTo(t.partitionCount());
    assertThat(slots).isEqualTo(t.partitionCount() * 3);
  }

  @Test
  void epoch_is_not_part_of_equality() {
    PartitionTable a = PartitionTable.compute(4, FIVE, PlacementConfig.defaults());
    PartitionTable b = a.withEpoch(9);
    assertThat(b.epoch()).isEqualTo(9);
    assertThat(a.withEpoch(4)).isSameAs(a);
    assertThat(b).isEqualTo(a).hasSameHashCodeAs(a);
    assertThat(b.sameAssignment(a)).isTrue();
    PartitionTable other = PartitionTable.compute(4, FIVE.subList(0, 4),
        PlacementConfig.defaults());
    assertThat(other.sameAssignment(a)).isFalse();
    assertThat(other).isNotEqualTo(a);
  }

  @Test
  void fingerprint_names_config_and_sorted_members_with_escapes() {
    PartitionTable t = PartitionTable.compute(1,
        List.of(new Member("b:x", 2), Member.of("a,y;z\\")), new PlacementConfig(64, 2, 8, 0.1));
    assertThat(t.fingerprint()).isEqualTo("P=64,R=2,V=8,eps=0.1;a\\,y\\;z\\\\:1,b\\:x:2");
    assertThat(PartitionTable.compute(1, FIVE, PlacementConfig.defaults()).fingerprint())
        .isEqualTo("P=512,R=3,V=256,eps=0.05;alpha:1,bravo:1,charlie:1,delta:1,echo:1");
  }

  @Test
  void members_are_sorted_by_name() {
    List<Member> reversed = new ArrayList<>(FIVE);
    java.util.Collections.reverse(reversed);
    PartitionTable t = PartitionTable.compute(1, reversed, PlacementConfig.defaults());
    assertThat(t.members()).containsExactlyElementsOf(FIVE);
  }

  /** Pins the placement: a change here changes every cluster's table (a format change). */
  @Test
  void golden_five_member_table() throws Exception {
    PartitionTable t = PartitionTable.compute(1, FIVE, PlacementConfig.defaults());
    String[] first = new String[20];
    for (int p = 0; p < 20; p++) {
      first[p] = t.primary(p);
    }
    assertThat(String.join(",", first)).isEqualTo(GOLDEN_FIRST_20);
    assertThat(sha256(t)).isEqualTo(GOLDEN_SHA256);
  }

  @Test
  void lookups_allocate_nothing() {
    PartitionTable t = PartitionTable.compute(1, FIVE, PlacementConfig.defaults());
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    String[] keys = new String[64];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = "user:" + (i * 7919L);
    }
    long sink = 0;
    for (int i = 0; i < 200_000; i++) {
      sink += t.replicasOf(keys[i & 63]).size() + t.primaryOf(keys[i & 63]).length();
    }
    long tid = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(tid);
    for (int i = 0; i < 100_000; i++) {
      sink += t.replicasOf(keys[i & 63]).size() + t.primaryOf(keys[i & 63]).length();
    }
    long allocated = threads.getThreadAllocatedBytes(tid) - before;
    assertThat(allocated).as("bytes allocated by 100k lookups (sink %d)", sink)
        .isLessThanOrEqualTo(1024);
  }

  static final String GOLDEN_FIRST_20 = "delta,bravo,alpha,bravo,alpha,alpha,echo,alpha,echo,echo,"
      + "charlie,charlie,echo,echo,alpha,alpha,bravo,echo,echo,bravo";
  static final String GOLDEN_SHA256 =
      "eb899a08482c95ffbc46f0f43ceb9c2a537d71be089c5a84c1b3a6d9ef1fde53";

  /** SHA-256 of "p:r1,r2,r3\n" for every partition. */
  static String sha256(PartitionTable t) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int p = 0; p < t.partitionCount(); p++) {
      sb.append(p).append(':').append(String.join(",", t.replicas(p))).append('\n');
    }
    byte[] digest = MessageDigest.getInstance("SHA-256")
        .digest(sb.toString().getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(digest);
  }
}
