package io.keel.map;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StoredValueTest {
  /** A value read back from its stored form must be what a JSON parser gives. */
  private static void assertReadsBack(Object value) {
    byte[] stored = Json.encode(value).getBytes(StandardCharsets.UTF_8);
    Object parsed = Json.decodeValue(new String(stored, StandardCharsets.UTF_8));
    Object read = MapVerticle.valueOf(stored);
    assertThat(read).as("%s", Json.encode(value)).isEqualTo(parsed);
    if (parsed != null) {
      assertThat(read).isInstanceOf(parsed.getClass());
    }
  }

  @Test
  void strings_are_read_back_as_a_parser_would_and_other_values_are_parsed() {
    List<Object> values = new ArrayList<>(List.of("", "plain", "quote \" inside", "back\\slash",
        "line\nbreak", "tab\t", "\u0001", "\u001f", "/slash", "h\u00e9llo \u2603 \uD83D\uDE00",
        "\u2028\u2029", "lone \uD800 surrogate", "\"", "\"\"", "ends with quote\"", "\\",
        "\\u0041", 42, -7L, 1.5, true, false, new JsonObject().put("a", "\"b\""),
        new JsonArray().add("x").add(1), "\"quoted\""));
    SplittableRandom random = new SplittableRandom(3);
    for (int n = 0; n < 5_000; n++) {
      StringBuilder s = new StringBuilder();
      for (int i = random.nextInt(20); i > 0; i--) {
        int kind = random.nextInt(6);
        s.append(kind == 0 ? (char) random.nextInt(0x20) : kind == 1 ? '"' : kind == 2 ? '\\'
            : (char) (0x20 + random.nextInt(0x2000)));
      }
      values.add(s.toString());
    }
    values.forEach(StoredValueTest::assertReadsBack);
  }
}
