package io.keel.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BinaryJsonCodecTest {
  private enum Colour { RED }

  /** What the binary form gives must be what JSON text gives: same values, same types. */
  private static void assertLikeJsonText(JsonObject sent) {
    JsonObject viaText = new JsonObject(sent.encode());
    JsonObject viaBinary = BinaryJsonCodec.decode(BinaryJsonCodec.encode(sent));
    assertSame(viaText.getMap(), viaBinary.getMap(), "$");
    assertThat(viaBinary.encode()).isEqualTo(viaText.encode());
  }

  private static void assertSame(Object expected, Object actual, String path) {
    if (expected instanceof JsonObject o) {
      expected = o.getMap();
    }
    if (actual instanceof JsonObject o) {
      actual = o.getMap();
    }
    if (expected instanceof JsonArray a) {
      expected = a.getList();
    }
    if (actual instanceof JsonArray a) {
      actual = a.getList();
    }
    if (expected instanceof Map<?, ?> e) {
      assertThat(actual).as(path).isInstanceOf(Map.class);
      Map<?, ?> a = (Map<?, ?>) actual;
      assertThat(new ArrayList<>(a.keySet())).as(path + " keys, in order")
          .isEqualTo(new ArrayList<>(e.keySet()));
      e.forEach((k, v) -> assertSame(v, a.get(k), path + "." + k));
    } else if (expected instanceof List<?> e) {
      assertThat(actual).as(path).isInstanceOf(List.class);
      List<?> a = (List<?>) actual;
      assertThat(a).as(path).hasSameSizeAs(e);
      for (int i = 0; i < e.size(); i++) {
        assertSame(e.get(i), a.get(i), path + "[" + i + "]");
      }
    } else if (expected == null) {
      assertThat(actual).as(path).isNull();
    } else {
      assertThat(actual).as(path).isInstanceOf(expected.getClass()).isEqualTo(expected);
    }
  }

  @Test
  void every_kind_of_value_arrives_as_json_text_would_bring_it() {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("raw", "map");
    assertLikeJsonText(new JsonObject()
        .put("s", "plain").put("empty", "").put("unicode", "héllo \u2603 \uD83D\uDE00 \"q\"\n")
        .put("i", 42).put("negative", -7).put("short", (short) 3).put("byte", (byte) -2)
        .put("smallLong", 5L).put("bigLong", 1L << 40).put("min", Long.MIN_VALUE)
        .put("max", Long.MAX_VALUE).put("intEdge", (long) Integer.MIN_VALUE)
        .put("d", 1.5).put("whole", 2.0).put("f", 0.1f).put("tiny", 1e-300)
        .put("t", true).put("false", false).putNull("nothing")
        .put("bytes", new byte[] {1, 2, 3, -1}).put("at", Instant.ofEpochMilli(1_700_000_000_123L))
        .put("colour", Colour.RED).put("bigInteger", new BigInteger("123456789012345678901234"))
        .put("bigDecimal", new BigDecimal("0.1"))
        .put("nested", new JsonObject().put("a", new JsonArray().add(1).add("two").addNull()
            .add(new JsonObject()).add(new JsonArray())))
        .put("rawMap", raw).put("rawList", List.of(1, "x", false))
        .put("emptyObject", new JsonObject()).put("emptyArray", new JsonArray())
        .put("nan", Double.NaN).put("inf", Double.POSITIVE_INFINITY)
        .put("-inf", Double.NEGATIVE_INFINITY).put("fnan", Float.NaN)
        .put("finf", Float.NEGATIVE_INFINITY)
        .put("lone", "a\uD800b").put("x\uDC00", "a key with a lone low surrogate")
        .put("reversed", "\uDE00\uD83D"));
  }

  @Test
  void a_message_is_read_from_where_it_starts_in_the_frame() {
    JsonObject sent = new JsonObject().put("a", "b\uD800").put("n", 7);
    Buffer frame = Buffer.buffer().appendString("header").appendBuffer(
        BinaryJsonCodec.encode(sent)).appendString("trailer");
    JsonObject got = new BinaryJsonCodec().decodeFromWire(6, frame);
    assertSame(new JsonObject(sent.encode()).getMap(), got.getMap(), "$");
  }

  @Test
  void a_count_past_the_end_of_the_message_fails_without_allocating_it() {
    Buffer b = BinaryJsonCodec.encode(new JsonObject().put("a", new JsonArray().add(1)));
    // object count at 1, key count at 5, key at 9, array tag at 10, array count at 11
    b.setInt(11, Integer.MAX_VALUE);
    assertThatThrownBy(() -> BinaryJsonCodec.decode(b))
        .hasMessage("a count of 2147483647 at byte 11 of a keel.json.bin.2 message of 20 bytes");
    Buffer c = BinaryJsonCodec.encode(new JsonObject().put("a", 1));
    c.setInt(1, -1);
    assertThatThrownBy(() -> BinaryJsonCodec.decode(c))
        .hasMessage("a count of -1 at byte 1 of a keel.json.bin.2 message of 15 bytes");
  }

  @Test
  void random_trees_arrive_as_json_text_would_bring_them() {
    for (long seed = 1; seed <= 300; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      JsonObject tree = object(random, 0);
      try {
        assertLikeJsonText(tree);
      } catch (AssertionError e) {
        throw new AssertionError("seed " + seed + ": " + tree.encode(), e);
      }
    }
  }

  private static JsonObject object(SplittableRandom r, int depth) {
    JsonObject o = new JsonObject();
    int n = r.nextInt(depth > 2 ? 3 : 7);
    for (int i = 0; i < n; i++) {
      o.put("k" + r.nextInt(1000), value(r, depth + 1));
    }
    return o;
  }

  private static Object value(SplittableRandom r, int depth) {
    switch (r.nextInt(depth > 3 ? 7 : 9)) {
      case 0:
        return null;
      case 1:
        return r.nextBoolean();
      case 2:
        return r.nextInt();
      case 3:
        return r.nextBoolean() ? r.nextLong() : (long) r.nextInt(100);
      case 4:
        return r.nextDouble() * 1e6 - 5e5;
      case 5:
        StringBuilder s = new StringBuilder();
        for (int i = r.nextInt(12); i > 0; i--) {
          int kind = r.nextInt(8);
          if (kind == 0) {
            s.append((char) (0xD800 + r.nextInt(0x800))); // a surrogate, paired or not
          } else {
            s.appendCodePoint(kind < 4 ? 'a' + r.nextInt(26)
                : kind < 7 ? 0x20 + r.nextInt(0x3000) : 0x10000 + r.nextInt(0x1000));
          }
        }
        return s.toString();
      case 6:
        return "";
      case 7:
        return object(r, depth);
      default:
        JsonArray a = new JsonArray();
        for (int i = r.nextInt(5); i > 0; i--) {
          a.add(value(r, depth + 1));
        }
        return a;
    }
  }

  @Test
  void strings_repeated_in_a_message_are_written_once() {
    JsonObject item = new JsonObject().put("service", "map").put("key", "user-1")
        .put("body", new JsonObject().put("op", "get").put("map", "carts").put("key", "user-1"));
    // Its distinct strings in UTF-8: service, map, key, user-1, body, op, get, carts. Alone, it
    // holds each once and numbers the repeats.
    int stringBytes = 7 + 3 + 3 + 6 + 4 + 2 + 3 + 5;
    int alone = BinaryJsonCodec.encode(item).length();
    int[] sizes = new int[101];
    for (int n = 1; n <= 100; n++) {
      JsonArray items = new JsonArray();
      for (int i = 0; i < n; i++) {
        items.add(item.copy());
      }
      JsonObject batch = new JsonObject().put("answers", "keel.answers.1").put("items", items);
      sizes[n] = BinaryJsonCodec.encode(batch).length();
      if (n == 100) {
        assertLikeJsonText(batch);
      }
    }
    int later = sizes[2] - sizes[1];
    // Each later item is its tags, counts and string numbers: no string's bytes again.
    assertThat(later).isLessThanOrEqualTo(alone - stringBytes);
    assertThat(sizes[100]).isEqualTo(sizes[1] + 99 * later);
  }

  @Test
  void strings_past_the_table_are_written_out_and_read_back() {
    JsonObject o = new JsonObject();
    JsonArray late = new JsonArray();
    for (int i = 0; i < BinaryJsonCodec.TABLE_MAX + 50; i++) {
      o.put("k" + i, "v" + i);
      late.add("k" + i).add("v" + (BinaryJsonCodec.TABLE_MAX - i));
    }
    assertLikeJsonText(o.put("late", late).put("k1", "k2"));
  }

  @Test
  void only_short_strings_without_surrogates_are_tabled_on_both_sides() {
    // Were writer and reader to table different strings, every later number would name
    // another string: "after" and the repeats check that none shifted.
    String atLimit = "\u00e9".repeat(BinaryJsonCodec.TABLE_BYTES_MAX / 2);
    String pastLimit = "\u00e9".repeat(BinaryJsonCodec.TABLE_BYTES_MAX / 2 + 1);
    String longText = "x".repeat(BinaryJsonCodec.TABLE_BYTES_MAX + 1);
    String surrogates = "\uD83D\uDE00";
    JsonArray all = new JsonArray().add(atLimit).add(pastLimit).add(longText).add(surrogates)
        .add("after").add(surrogates).add(longText).add(pastLimit).add(atLimit).add("after");
    assertLikeJsonText(new JsonObject().put("all", all).put("after", atLimit));
  }

  @Test
  void a_string_number_past_the_table_fails_naming_the_codec() {
    Buffer b = BinaryJsonCodec.encode(new JsonObject().put("a", "b").put("c", "a"));
    // object tag and count, "a" (count, byte), string tag, "b", "c", string tag: "a" is string 0
    int ref = 1 + 4 + 5 + 1 + 5 + 5 + 1;
    assertThat(b.getInt(ref)).isEqualTo(-1);
    b.setInt(ref, -4);
    assertThatThrownBy(() -> BinaryJsonCodec.decode(b))
        .hasMessage("string 3 at byte 22 of a keel.json.bin.2 message, which has 3");
  }

  @Test
  void a_message_sent_within_the_node_is_a_copy() {
    JsonObject sent = new JsonObject().put("a", new JsonObject().put("b", 1));
    JsonObject got = new BinaryJsonCodec().transform(sent);
    assertThat(got).isEqualTo(sent).isNotSameAs(sent);
    assertThat(got.getJsonObject("a")).isNotSameAs(sent.getJsonObject("a"));
  }

  @Test
  void a_damaged_message_fails_naming_the_codec() {
    Buffer b = BinaryJsonCodec.encode(new JsonObject().put("a", 1));
    b.setByte(0, (byte) 8);
    assertThatThrownBy(() -> BinaryJsonCodec.decode(b))
        .hasMessageContaining("must hold an object");
    Buffer c = BinaryJsonCodec.encode(new JsonObject().put("a", 1));
    c.setByte(1 + 4 + 4 + 1, (byte) 99);
    assertThatThrownBy(() -> BinaryJsonCodec.decode(c))
        .hasMessage("unknown value tag 99 at byte 10 of a keel.json.bin.2 message");
  }

  @Test
  void registered_twice_it_still_serves_a_request_named_with_it() throws Exception {
    // Across nodes, every batched routed request of the in-JVM cluster tests crosses in it.
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      BinaryJsonCodec.register(vertx.eventBus());
      BinaryJsonCodec.register(vertx.eventBus()); // twice is fine
      vertx.eventBus().<JsonObject>consumer("echo", m -> m.reply(m.body().put("seen", true),
          BinaryJsonCodec.options()));
      JsonObject reply = vertx.eventBus().<JsonObject>request("echo",
          new JsonObject().put("n", 1), BinaryJsonCodec.options()).await(10, TimeUnit.SECONDS)
          .body();
      assertThat(reply).isEqualTo(new JsonObject().put("n", 1).put("seen", true));
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
