package io.keel.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirTest {
  @TempDir
  Path tmp;

  @Test
  void a_name_made_on_first_start_is_kept() {
    String first = DataDir.open(tmp.toString()).resolveName(null);
    assertThat(first).matches("node-[0-9a-f]{8}");
    assertThat(DataDir.open(tmp.toString()).resolveName(null)).isEqualTo(first);
  }

  @Test
  void a_configured_name_is_persisted_and_must_match_later() {
    assertThat(DataDir.open(tmp.toString()).resolveName("alpha")).isEqualTo("alpha");
    assertThat(DataDir.open(tmp.toString()).resolveName(null)).isEqualTo("alpha");
    assertThatThrownBy(() -> DataDir.open(tmp.toString()).resolveName("beta"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("belongs to node 'alpha', not 'beta'");
  }

  @Test
  void the_epoch_survives_a_reopen() {
    DataDir d = DataDir.open(tmp.toString());
    assertThat(d.readEpoch()).isZero();
    d.writeEpoch(42);
    assertThat(DataDir.open(tmp.toString()).readEpoch()).isEqualTo(42);
  }

  @Test
  void a_path_under_a_regular_file_is_refused_by_name() throws Exception {
    Path file = Files.createFile(tmp.resolve("plain"));
    assertThatThrownBy(() -> DataDir.open(file.resolve("sub").toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.resolve("sub").toString());
  }
}
