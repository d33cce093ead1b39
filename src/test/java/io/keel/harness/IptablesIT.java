package io.keel.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Iptables} on this machine's firewall (root): its own chain, and nothing left after. */
class IptablesIT {

  @BeforeEach
  void requireIptables() {
    assertThat(Iptables.unavailableReason())
        .as("iptables must work here (apt-get install -y iptables; run as root)").isNull();
  }

  @Test
  void cuts_are_rules_in_its_own_chain_and_close_removes_the_chain() throws Exception {
    String chain;
    try (Iptables net = new Iptables()) {
      chain = net.chain();
      assertThat(chain).matches("KEEL-[0-9a-f]{8}");
      assertThat(iptablesS()).contains("-A OUTPUT -j " + chain);
      net.cut("127.0.0.11", "127.0.0.12");
      net.cutOneWay("127.0.0.13", "127.0.0.11");
      assertThat(net.rules()).containsExactly("-N " + chain,
          "-A " + chain + " -s 127.0.0.11/32 -d 127.0.0.12/32 -j DROP",
          "-A " + chain + " -s 127.0.0.12/32 -d 127.0.0.11/32 -j DROP",
          "-A " + chain + " -s 127.0.0.13/32 -d 127.0.0.11/32 -j DROP");
      net.heal();
      assertThat(net.rules()).containsExactly("-N " + chain);
    }
    assertThat(iptablesS()).doesNotContain(chain);
  }

  @Test
  void an_interrupted_thread_still_removes_the_chain() throws Exception {
    Iptables net = new Iptables();
    net.cut("127.0.0.11", "127.0.0.12");
    Thread.currentThread().interrupt(); // as JUnit's @Timeout does to a test that runs over
    try {
      net.close();
    } finally {
      assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
    }
    assertThat(iptablesS()).doesNotContain(net.chain());
  }

  @Test
  void only_loopback_addresses_may_be_cut() {
    try (Iptables net = new Iptables()) {
      for (String address : new String[] {"10.0.0.1", "0.0.0.0", "127.0.0.256", "localhost",
          "::1", "128.0.0.1"}) {
        assertThatThrownBy(() -> net.cut("127.0.0.11", address)).as(address)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("only loopback addresses (127.0.0.0/8) may be cut, was " + address);
        assertThatThrownBy(() -> net.cutOneWay(address, "127.0.0.11")).as(address)
            .isInstanceOf(IllegalArgumentException.class);
      }
      assertThat(net.rules()).containsExactly("-N " + net.chain());
    }
  }

  /** {@code iptables -S}: every rule of the filter table. */
  private static String iptablesS() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("iptables", "-w", "5", "-S").redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("iptables -S finished").isTrue();
    assertThat(p.exitValue()).as("iptables -S: %s", out).isZero();
    return out;
  }
}
