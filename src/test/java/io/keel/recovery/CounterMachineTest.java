package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.recovery.CounterMachine.Added;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class CounterMachineTest {

  private static Added added(byte[] answer) {
    return Added.decode(answer).orElseThrow();
  }

  @Test
  void adds_answer_the_new_value_and_a_retried_request_id_is_not_applied_twice() {
    CounterMachine m = new CounterMachine();
    assertThat(added(m.apply(3, CounterMachine.add("k", 5, "r1")))).isEqualTo(new Added(5, 3));
    assertThat(added(m.apply(4, CounterMachine.add("k", 2, null)))).isEqualTo(new Added(7, 4));
    // The retry answers the first result and changes nothing.
    assertThat(added(m.apply(5, CounterMachine.add("k", 5, "r1")))).isEqualTo(new Added(5, 3));
    assertThat(CounterMachine.value(m.query(CounterMachine.get("k")))).isEqualTo(7);
    assertThat(CounterMachine.value(m.query(CounterMachine.get("other")))).isZero();
  }

  @Test
  void a_malformed_command_is_refused_and_changes_nothing() {
    CounterMachine m = new CounterMachine();
    m.apply(1, CounterMachine.add("k", 1, null));
    assertThat(m.apply(2, new byte[] {1, 2, 3})).isEmpty();
    assertThat(Added.decode(new byte[0])).isEmpty();
    assertThat(CounterMachine.value(m.query(CounterMachine.get("k")))).isEqualTo(1);
  }

  @Test
  void request_ids_are_forgotten_oldest_first_beyond_the_bound() {
    CounterMachine m = new CounterMachine();
    for (int i = 0; i <= CounterMachine.REQUEST_IDS_MAX; i++) {
      m.apply(i + 1, CounterMachine.add("k", 1, "r" + i));
    }
    long value = CounterMachine.value(m.query(CounterMachine.get("k")));
    // r0 was forgotten, so it applies again; the newest id is still remembered.
    m.apply(value + 10, CounterMachine.add("k", 1, "r0"));
    m.apply(value + 11, CounterMachine.add("k", 1, "r" + CounterMachine.REQUEST_IDS_MAX));
    assertThat(CounterMachine.value(m.query(CounterMachine.get("k")))).isEqualTo(value + 1);
  }

  @Test
  void a_snapshot_installed_elsewhere_answers_every_later_command_alike() {
    Supplier<MachineSet> fresh = () -> new MachineSet(Map.of(CounterMachine.NAME,
        CounterMachine::new));
    MachineSet a = fresh.get();
    for (int i = 1; i <= 50; i++) {
      a.apply(i, MachineSet.frame(CounterMachine.NAME,
          CounterMachine.add("k" + i % 7, i, "r" + i)));
    }
    MachineSet b = fresh.get();
    b.installSnapshot(50, a.takeSnapshot(50));
    assertThat(b.appliedIndex()).isEqualTo(50);
    for (int i = 40; i <= 60; i++) {
      byte[] command = MachineSet.frame(CounterMachine.NAME,
          CounterMachine.add("k" + i % 7, 1, "r" + i));
      assertThat(b.apply(50 + i, command)).isEqualTo(a.apply(50 + i, command));
    }
    assertThat(b.takeSnapshot(200)).isEqualTo(a.takeSnapshot(200));
  }

  @Test
  void a_command_for_a_machine_the_set_lacks_is_answered_empty() {
    MachineSet set = new MachineSet(Map.of(CounterMachine.NAME, CounterMachine::new));
    assertThat(set.apply(1, MachineSet.frame("keel.nothing", new byte[] {1}))).isEmpty();
    assertThat(set.apply(2, new byte[0])).isEmpty();
  }
}
