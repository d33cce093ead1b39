package io.keel.locks;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.locks.LockMachine.EventKind;
import io.keel.locks.LockMachine.Outcome;
import io.keel.locks.LockMachine.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The lock table's rules, command by command, with the time passed in. */
class LockMachineTest {
  private final LockMachine m = new LockMachine(3);
  private long index = 10;

  private Outcome run(byte[] command) {
    return Outcome.decode(m.apply(++index, command));
  }

  private Outcome acquire(String holder, String requestId, long waitMs, long now) {
    return run(LockMachine.acquire("L", holder, "n-" + holder, requestId, 1_000, waitMs, now));
  }

  @Test
  void a_free_lock_is_granted_with_the_index_as_token_and_waiters_follow_in_order() {
    Outcome a = acquire("a", "ra", 5_000, 0);
    assertThat(a.status()).isEqualTo(Status.GRANTED);
    assertThat(a.token()).isEqualTo(index);
    // The grant is an event too, so the feed reports it like a grant to a waiter.
    assertThat(a.events()).extracting(LockMachine.Event::kind)
        .containsExactly(EventKind.GRANTED);
    assertThat(acquire("b", "rb", 5_000, 1).status()).isEqualTo(Status.QUEUED);
    assertThat(acquire("c", "rc", 5_000, 2).status()).isEqualTo(Status.QUEUED);
    assertThat(m.heldCount()).isEqualTo(1);
    assertThat(m.waiterCount()).isEqualTo(2);

    Outcome released = run(LockMachine.release("L", a.token(), 3));
    assertThat(m.waiterCount()).isEqualTo(1);
    assertThat(released.status()).isEqualTo(Status.RELEASED);
    assertThat(released.events()).extracting(LockMachine.Event::kind)
        .containsExactly(EventKind.RELEASED, EventKind.GRANTED);
    LockMachine.Event toB = released.events().get(1);
    assertThat(toB.holder()).isEqualTo("b");
    assertThat(toB.token()).isEqualTo(index).isGreaterThan(a.token());

    Outcome second = run(LockMachine.release("L", toB.token(), 4));
    assertThat(second.events().get(1).holder()).isEqualTo("c");
    assertThat(second.events().get(1).token()).isGreaterThan(toB.token());
    assertThat(m.waiterCount()).isZero();
  }

  @Test
  void a_wrong_token_conflicts_and_changes_nothing() {
    long token = acquire("a", "ra", 0, 0).token();
    byte[] before = m.takeSnapshot(index);
    assertThat(run(LockMachine.release("L", token + 1, 0)).status()).isEqualTo(Status.CONFLICT);
    assertThat(run(LockMachine.renew("L", token - 1, 5_000, 0)).status())
        .isEqualTo(Status.CONFLICT);
    assertThat(run(LockMachine.release("other", token, 0)).status())
        .isEqualTo(Status.CONFLICT);
    assertThat(m.takeSnapshot(index)).isEqualTo(before);
  }

  @Test
  void a_lease_ends_unless_renewed_and_the_next_waiter_gets_the_lock() {
    long token = acquire("a", "ra", 0, 0).token();
    acquire("b", "rb", 10_000, 0);
    assertThat(run(LockMachine.renew("L", token, 1_000, 900)).status())
        .isEqualTo(Status.RENEWED);
    assertThat(run(LockMachine.tick(1_899)).events()).isEmpty();
    Outcome expired = run(LockMachine.tick(1_900));
    assertThat(expired.events()).extracting(LockMachine.Event::kind)
        .containsExactly(EventKind.EXPIRED, EventKind.GRANTED);
    // The old holder's token is dead: renew and release conflict.
    assertThat(run(LockMachine.renew("L", token, 1_000, 1_901)).status())
        .isEqualTo(Status.CONFLICT);
  }

  @Test
  void time_never_goes_back_and_a_new_term_extends_every_lease() {
    acquire("a", "ra", 0, 1_000);
    // A leader with a slow clock: its time 0 is taken as 1,000.
    assertThat(run(LockMachine.tick(0)).events()).isEmpty();
    m.onNewTerm(++index);
    // 1,500 is past the lease's end (2,000)? No; 2,100 is, but the new leader extends the
    // lease to a full lease from its first command's time.
    assertThat(run(LockMachine.tick(2_100)).events()).isEmpty();
    assertThat(run(LockMachine.tick(3_099)).events()).isEmpty();
    assertThat(run(LockMachine.tick(3_100)).events()).extracting(LockMachine.Event::kind)
        .containsExactly(EventKind.EXPIRED);
  }

  @Test
  void waits_end_on_time_or_at_once_and_queues_are_bounded() {
    acquire("a", "ra", 0, 0);
    assertThat(acquire("b", "try", 0, 0).status()).isEqualTo(Status.TIMEOUT);
    assertThat(acquire("b", "rb", 500, 0).status()).isEqualTo(Status.QUEUED);
    acquire("c", "rc", 5_000, 0);
    acquire("d", "rd", 5_000, 0);
    assertThat(acquire("e", "re", 5_000, 0).status()).isEqualTo(Status.FULL);
    Outcome tick = run(LockMachine.tick(500));
    assertThat(tick.events()).extracting(LockMachine.Event::kind)
        .containsExactly(EventKind.WAIT_ENDED);
    assertThat(tick.events().get(0).requestId()).isEqualTo("rb");
  }

  @Test
  void a_retried_acquire_is_answered_never_granted_twice() {
    Outcome first = acquire("a", "ra", 0, 0);
    Outcome again = acquire("a", "ra", 0, 1);
    assertThat(again.status()).isEqualTo(Status.GRANTED);
    assertThat(again.token()).isEqualTo(first.token());
    assertThat(acquire("b", "rb", 5_000, 1).status()).isEqualTo(Status.QUEUED);
    assertThat(acquire("b", "rb", 5_000, 2).status()).isEqualTo(Status.QUEUED);
    assertThat(m.query(LockMachine.info("L", 2))).satisfies(bytes ->
        assertThat(LockMachine.decodeInfo(bytes).waiters()).isEqualTo(1));
    run(LockMachine.release("L", first.token(), 3));
    // The lease that request got has ended: a retry learns it, and gets nothing new.
    assertThat(acquire("a", "ra", 0, 4).status()).isEqualTo(Status.CONFLICT);
    acquire("x", "tried", 0, 4);
    assertThat(acquire("x", "tried", 0, 5).status()).isEqualTo(Status.TIMEOUT);
  }

  @Test
  void a_node_that_leaves_loses_its_leases_and_its_waits() {
    run(LockMachine.acquire("L", "a", "n1", "ra", 60_000, 0, 0));
    run(LockMachine.acquire("L", "b", "n1", "rb", 60_000, 60_000, 0));
    run(LockMachine.acquire("L", "c", "n2", "rc", 60_000, 60_000, 0));
    assertThat(m.holderNodes()).containsExactly("n1");
    Outcome left = run(LockMachine.releaseNode("n1", 10));
    assertThat(m.holderNodes()).containsExactly("n2");
    LockMachine restored = new LockMachine(3);
    restored.installSnapshot(index, m.takeSnapshot(index));
    assertThat(restored.holderNodes()).containsExactly("n2");
    assertThat(left.events()).extracting(LockMachine.Event::kind)
        .containsExactly(EventKind.WAIT_ENDED, EventKind.NODE_LEFT, EventKind.GRANTED);
    assertThat(left.events().get(2).holder()).isEqualTo("c");
  }

  @Test
  void info_and_held_tell_the_table_and_malformed_commands_change_nothing() {
    long token = acquire("a", "ra", 0, 0).token();
    LockMachine.Info info = LockMachine.decodeInfo(m.query(LockMachine.info("L", 400)));
    assertThat(info).isEqualTo(new LockMachine.Info("L", true, token, "a", 600, 0, token));
    assertThat(LockMachine.decodeHeld(m.query(LockMachine.held(10, 0)))).hasSize(1);
    run(LockMachine.acquire("M", "m", "n-m", "rm", 1_000, 0, 0));
    run(LockMachine.acquire("K", "k", "n-k", "rk", 1_000, 0, 0));
    run(LockMachine.acquire("free", "f", "n-f", "rf", 1_000, 0, 0));
    run(LockMachine.release("free", index, 0));
    assertThat(LockMachine.decodeHeld(m.query(LockMachine.held(2, 0))))
        .extracting(LockMachine.Info::name).containsExactly("K", "L");
    assertThat(LockMachine.decodeHeld(m.query(LockMachine.held(10, 0))))
        .extracting(LockMachine.Info::name).containsExactly("K", "L", "M");
    assertThat(LockMachine.decodeInfo(m.query(LockMachine.info("free", 0))).held()).isFalse();
    byte[] before = m.takeSnapshot(index);
    assertThat(run(new byte[] {9, 9}).status()).isEqualTo(Status.MALFORMED);
    assertThat(run(new byte[0]).status()).isEqualTo(Status.MALFORMED);
    assertThat(m.takeSnapshot(index)).isEqualTo(before);
  }

  /**
   * Random commands on a few names, applied to one table and, from a snapshot taken midway, to
   * a second: both answer alike, no name is ever held twice at once, tokens only grow, and
   * waiters are granted in the order they queued.
   */
  @Test
  void random_histories_keep_the_rules_and_snapshots_replay_them() {
    for (long seed = 1; seed <= 50; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      LockMachine a = new LockMachine(4);
      LockMachine b = null;
      Map<String, Long> lastToken = new HashMap<>();
      Map<String, Long> heldToken = new HashMap<>();
      Map<String, List<String>> queued = new HashMap<>();
      long now = 0;
      for (long i = 1; i <= 400; i++) {
        now += random.nextInt(200);
        String name = "L" + random.nextInt(3);
        byte[] command;
        int kind = random.nextInt(10);
        if (kind < 5) {
          command = LockMachine.acquire(name, "h" + i, "n" + random.nextInt(3), "r" + i,
              100 + random.nextInt(900), random.nextInt(3) * 500L, now);
        } else if (kind < 7) {
          long token = heldToken.getOrDefault(name, 0L);
          command = LockMachine.release(name, random.nextInt(4) == 0 ? token + 1 : token, now);
        } else if (kind < 8) {
          command = LockMachine.renew(name, heldToken.getOrDefault(name, 0L), 500, now);
        } else if (kind < 9) {
          command = LockMachine.releaseNode("n" + random.nextInt(3), now);
        } else {
          command = LockMachine.tick(now);
        }
        if (i == 200) {
          b = new LockMachine(4);
          b.installSnapshot(i - 1, a.takeSnapshot(i - 1));
        }
        byte[] answer = a.apply(i, command);
        if (b != null) {
          assertThat(b.apply(i, command)).as("seed %d command %d", seed, i).isEqualTo(answer);
        }
        Outcome o = Outcome.decode(answer);
        // Events in the order they happened; an immediate grant is the last of them.
        List<LockMachine.Event> events = o.events();
        if (o.status() == Status.GRANTED && o.token() == i) {
          assertThat(events.get(events.size() - 1).kind()).isEqualTo(EventKind.GRANTED);
        }
        if (o.status() == Status.QUEUED) {
          queued.computeIfAbsent(name, k -> new ArrayList<>()).add("r" + i);
        }
        for (LockMachine.Event e : events) {
          switch (e.kind()) {
            case RELEASED, EXPIRED, NODE_LEFT ->
                assertThat(heldToken.remove(e.name())).as("seed %d", seed).isEqualTo(e.token());
            case WAIT_ENDED -> queued.get(e.name()).remove(e.requestId());
            case GRANTED -> {
              assertThat(heldToken).as("seed %d: %s held twice", seed, e.name())
                  .doesNotContainKey(e.name());
              assertThat(e.token()).isGreaterThan(lastToken.getOrDefault(e.name(), 0L));
              List<String> q = queued.getOrDefault(e.name(), new ArrayList<>());
              if (e.token() != Long.parseLong(e.requestId().substring(1))) {
                assertThat(e.requestId()).as("seed %d: FIFO on %s", seed, e.name())
                    .isEqualTo(q.remove(0));
              }
              heldToken.put(e.name(), e.token());
              lastToken.put(e.name(), e.token());
            }
            default -> throw new AssertionError(e);
          }
        }
      }
      assertThat(b.takeSnapshot(400)).isEqualTo(a.takeSnapshot(400));
    }
  }
}
