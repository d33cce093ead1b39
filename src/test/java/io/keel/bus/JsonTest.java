package io.keel.bus;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void utf8_length_counts_what_the_encoder_writes() {
    for (String s : new String[] {"", "a", "é", "€", "😀", "a😀b", "\uD800", "\uDC00x",
        "\uD800\uD800\uDC00", "x\uDBFF"}) {
      assertThat(Json.utf8Length(s)).as(s).isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
    }
    SplittableRandom rnd = new SplittableRandom(7);
    char[] pool = {'a', 'Z', '~', '\u00e9', '\u07ff', '\u0800', '\u20ac', '\uffff', '\uD83D',
        '\uDE00', '\uDBFF', '\uDC00'};
    for (int i = 0; i < 10_000; i++) {
      char[] cs = new char[rnd.nextInt(12)];
      for (int j = 0; j < cs.length; j++) {
        cs[j] = pool[rnd.nextInt(pool.length)];
      }
      String s = new String(cs);
      assertThat(Json.utf8Length(s)).as(s).isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
    }
  }
}
