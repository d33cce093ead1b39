package io.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --url} parsing, and the small formats of the operator commands. */
class NodeUrlTest {

  @Test
  void urls_are_normalized_with_port_and_prefix() {
    assertThat(NodeUrl.parse("http://127.0.0.1:8080/")).isEqualTo(
        new NodeUrl("http://127.0.0.1:8080", false, "127.0.0.1", 8080, ""));
    assertThat(NodeUrl.parse("localhost:9000")).isEqualTo(
        new NodeUrl("http://localhost:9000", false, "localhost", 9000, ""));
    NodeUrl proxied = NodeUrl.parse("https://ops.example/keel/n1/");
    assertThat(proxied).isEqualTo(
        new NodeUrl("https://ops.example:443/keel/n1", true, "ops.example", 443, "/keel/n1"));
    assertThat(proxied.uri("/status")).isEqualTo("/keel/n1/status");
    assertThat(NodeUrl.parse("http://[::1]:8080").host()).isEqualTo("::1");
  }

  @Test
  void bad_urls_are_refused_naming_the_problem() {
    assertThatThrownBy(() -> NodeUrl.parse("ftp://x")).hasMessageContaining("http://");
    assertThatThrownBy(() -> NodeUrl.parse("http://a b")).hasMessageContaining("not a URL");
    assertThatThrownBy(() -> NodeUrl.parse("http://x/?q=1")).hasMessageContaining("query");
  }

  @Test
  void lock_names_are_escaped_as_one_path_segment() {
    assertThat(HttpSupport.pathSegment("a b/c?")).isEqualTo("a%20b%2Fc%3F");
  }

  @Test
  void ranges_durations_and_sizes_read_short() {
    assertThat(Formats.ranges(List.of(0, 1, 2, 5, 7, 8), 10)).isEqualTo("0-2, 5, 7-8");
    assertThat(Formats.ranges(List.of(0, 2, 4, 6), 2)).isEqualTo("0, 2, ... (+2)");
    assertThat(Formats.duration(950)).isEqualTo("950ms");
    assertThat(Formats.duration(8_200)).isEqualTo("8.2s");
    assertThat(Formats.duration(3_725_000)).isEqualTo("1h02m");
    assertThat(Formats.bytes(1536)).isEqualTo("1.5 KiB");
  }
}
