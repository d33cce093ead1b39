package io.keel.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.status.ClientFrames.Close;
import io.keel.status.ClientFrames.Kind;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClientFramesTest {
  private final ClientFrames rules = new ClientFrames(100);

  private static byte[] hex(String h) {
    return HexFormat.of().parseHex(h.replace(" ", ""));
  }

  @Test
  void text_and_binary_messages_within_the_limit_are_ignored() {
    assertThat(rules.accept(Kind.TEXT, true, "héllo ✓ 𝄞".getBytes(StandardCharsets.UTF_8)))
        .isNull();
    assertThat(rules.accept(Kind.BINARY, true, hex("ff fe 00 c0"))).isNull();
    assertThat(rules.accept(Kind.TEXT, true, new byte[0])).isNull();
    assertThat(rules.accept(Kind.TEXT, true, new byte[100])).isNull();
  }

  @Test
  void a_character_may_straddle_frames() {
    byte[] clef = "𝄞".getBytes(StandardCharsets.UTF_8);
    assertThat(rules.accept(Kind.TEXT, false, new byte[] {clef[0]})).isNull();
    assertThat(rules.accept(Kind.CONTINUATION, false, new byte[] {clef[1], clef[2]})).isNull();
    assertThat(rules.accept(Kind.CONTINUATION, true, new byte[] {clef[3], 'a'})).isNull();
    assertThat(rules.accept(Kind.TEXT, true, "next".getBytes(StandardCharsets.UTF_8))).isNull();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource({
      "lone continuation byte, 80",
      "overlong NUL, c0 80",
      "overlong two-byte lead, c1 bf",
      "overlong three bytes, e0 80 80",
      "surrogate, ed a0 80",
      "overlong four bytes, f0 80 80 80",
      "above U+10FFFF, f4 90 80 80",
      "lead byte F5, f5 80 80 80",
      "byte FF, ff",
      "lead then ASCII, c3 41",
      "ends inside a character, e2 9c",
  })
  void text_that_is_not_utf8_closes_with_1007(String what, String bytes) {
    Close close = rules.accept(Kind.TEXT, true, hex(bytes));
    assertThat(close).as(what).isNotNull();
    assertThat(close.code()).isEqualTo(ClientFrames.INVALID_PAYLOAD);
  }

  @Test
  void a_message_over_the_limit_closes_with_1009_even_in_small_frames() {
    assertThat(rules.accept(Kind.BINARY, false, new byte[60])).isNull();
    Close close = rules.accept(Kind.CONTINUATION, true, new byte[41]);
    assertThat(close).isEqualTo(new Close(ClientFrames.MESSAGE_TOO_BIG,
        "the feed takes no message over 100 bytes"));
    assertThat(new ClientFrames(100).accept(Kind.TEXT, true, new byte[101]).code())
        .isEqualTo(ClientFrames.MESSAGE_TOO_BIG);
  }

  @Test
  void the_limit_counts_one_message_at_a_time() {
    for (int i = 0; i < 10; i++) {
      assertThat(rules.accept(Kind.BINARY, true, new byte[100])).isNull();
    }
  }

  @Test
  void frames_out_of_order_close_with_1002() {
    assertThat(new ClientFrames(100).accept(Kind.CONTINUATION, true, new byte[1]).code())
        .isEqualTo(ClientFrames.PROTOCOL_ERROR);
    assertThat(rules.accept(Kind.TEXT, false, new byte[1])).isNull();
    assertThat(rules.accept(Kind.BINARY, true, new byte[1]).code())
        .isEqualTo(ClientFrames.PROTOCOL_ERROR);
  }
}
