package io.keel.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Pins the key hash, part of the wire and on-disk format. */
class KeyHashTest {

  @Test
  void published_vectors_match() {
    assertThat(KeyHash.hash64("")).isEqualTo(0xEF46DB3751D8E999L);
    assertThat(KeyHash.hash64("abc")).isEqualTo(0x44BC2CF5AD770999L);
    assertThat(KeyHash.hash64(new byte[0])).isEqualTo(0xEF46DB3751D8E999L);
    assertThat(KeyHash.hash64("abc".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(0x44BC2CF5AD770999L);
  }

  /** Golden values from the reference C implementation (libxxhash 0.8.1, XXH64 seed 0). */
  @ParameterizedTest
  @CsvSource({
      "0, 633457081244AFEC",
      "01, 6ED10A79B52EF0F5",
      "012, 1C2DCB4B9024D73D",
      "0123, 4C33072B45647DCB",
      "01234, 34CB4C2EE6166F65",
      "0123456, 97EE4FE4A0FF4DFA",
      "01234567, E4BA22A49AD89D3F",
      "012345678, 43ECC9248BC07D20",
      "0123456789ab, 862E292326B8A4FC",
      "0123456789abcde, 4BB51A30968E6A4D",
      "0123456789abcdef, 5C5B90C34E376D0B",
      "0123456789abcdefg, 8036EE70CD0A1505",
      "0123456789abcdefghijklmn, C511307085F8FABD",
      "0123456789abcdefghijklmnopqrstu, 80ADFC1D42020F39",
      "0123456789abcdefghijklmnopqrstuv, BF7C9DBE16B5C6E2",
      "0123456789abcdefghijklmnopqrstuvw, E97423E605E2F3B4",
      "0123456789abcdefghijklmnopqrstuvwxyzABC, 16AD2D8A60AD5BC2",
      "0123456789abcdefghijklmnopqrstuvwxyzABCD, 1B3CE041C106B50B",
      "a, D24EC4F1A98C6E5B",
      "abcd, DE0327B0D25D92CC",
      "The quick brown fox jumps over the lazy dog, 0B242D361FDA71BC",
      "é, 17D757DFB8B46F78",
      "日本語キー, 11D544C2B05EB65A",
      "\uD83D\uDE00 emoji key, 06BCFC70662EC55C",
      "user:ñandú-42-ü-naïve-straße-Ωμέγα-long-enough, FA8A8F027BBFC1EA"
  })
  void golden_values_match_the_reference_implementation(String key, String hex) {
    long expected = Long.parseUnsignedLong(hex, 16);
    assertThat(KeyHash.hash64(key)).as("key=%s", key).isEqualTo(expected);
    assertThat(KeyHash.hash64(key.getBytes(StandardCharsets.UTF_8))).isEqualTo(expected);
    assertThat(Reference.xxh64(key.getBytes(StandardCharsets.UTF_8))).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 42, 1234567})
  void streaming_equals_the_byte_array_hash_for_random_strings(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < 2000; i++) {
      String key = randomString(random, random.nextInt(80));
      byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
      assertThat(KeyHash.hash64(key)).as("seed=%d i=%d key=%s", seed, i, key)
          .isEqualTo(KeyHash.hash64(utf8))
          .isEqualTo(Reference.xxh64(utf8));
      assertThat(KeyHash.hash64(new StringBuilder(key))).isEqualTo(KeyHash.hash64(utf8));
    }
  }

  @Test
  void lone_surrogates_hash_like_a_question_mark() {
    String lone = "a\uD800b\uDC00c\uD83D";
    assertThat(KeyHash.hash64(lone)).isEqualTo(KeyHash.hash64("a?b?c?"))
        .isEqualTo(KeyHash.hash64(lone.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void partition_reads_the_hash_as_unsigned() {
    assertThat(KeyHash.partition(-1L, 271)).isEqualTo(Long.remainderUnsigned(-1L, 271));
    assertThat(KeyHash.partition(0xEF46DB3751D8E999L, 271)).isEqualTo(
        (int) Long.remainderUnsigned(0xEF46DB3751D8E999L, 271));
    assertThat(KeyHash.partition(12345, 1)).isZero();
  }

  @Test
  void hashing_a_string_allocates_nothing() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    String[] keys = {
        "user:1234567890", "k", "ключ-é-日本-\uD83D\uDE00-mixed", "x".repeat(100)};
    long sink = 0;
    for (int i = 0; i < 200_000; i++) {
      sink += KeyHash.hash64(keys[i & 3]);
    }
    long tid = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(tid);
    for (int i = 0; i < 100_000; i++) {
      sink += KeyHash.hash64(keys[i & 3]);
    }
    long allocated = threads.getThreadAllocatedBytes(tid) - before;
    assertThat(allocated).as("bytes allocated by 100k calls (sink %d)", sink)
        .isLessThanOrEqualTo(1024);
  }

  private static String randomString(SplittableRandom random, int length) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < length; i++) {
      switch (random.nextInt(6)) {
        case 0: sb.append((char) random.nextInt(0x80)); break;
        case 1: sb.append((char) (0x80 + random.nextInt(0x780))); break;
        case 2: sb.append((char) (0x800 + random.nextInt(0xD800 - 0x800))); break;
        case 3: sb.appendCodePoint(0x10000 + random.nextInt(0x100000)); break;
        case 4: sb.append((char) (0xD800 + random.nextInt(0x800))); break; // lone surrogate
        default: sb.append((char) ('a' + random.nextInt(26))); break;
      }
    }
    return sb.toString();
  }

  /** A straightforward xxHash64 over bytes, written from the specification. */
  static final class Reference {
    static final long P1 = 0x9E3779B185EBCA87L;
    static final long P2 = 0xC2B2AE3D27D4EB4FL;
    static final long P3 = 0x165667B19E3779F9L;
    static final long P4 = 0x85EBCA77C2B2AE63L;
    static final long P5 = 0x27D4EB2F165667C5L;

    static long xxh64(byte[] in) {
      int len = in.length;
      int i = 0;
      long h;
      if (len >= 32) {
        long[] v = {P1 + P2, P2, 0, -P1};
        for (; i + 32 <= len; i += 32) {
          for (int lane = 0; lane < 4; lane++) {
            v[lane] = round(v[lane], le64(in, i + 8 * lane));
          }
        }
        h = Long.rotateLeft(v[0], 1) + Long.rotateLeft(v[1], 7) + Long.rotateLeft(v[2], 12)
            + Long.rotateLeft(v[3], 18);
        for (long lane : v) {
          h = (h ^ round(0, lane)) * P1 + P4;
        }
      } else {
        h = P5;
      }
      h += len;
      for (; i + 8 <= len; i += 8) {
        h = Long.rotateLeft(h ^ round(0, le64(in, i)), 27) * P1 + P4;
      }
      if (i + 4 <= len) {
        long k = 0;
        for (int b = 3; b >= 0; b--) {
          k = (k << 8) | (in[i + b] & 0xFF);
        }
        h = Long.rotateLeft(h ^ (k * P1), 23) * P2 + P3;
        i += 4;
      }
      for (; i < len; i++) {
        h = Long.rotateLeft(h ^ ((in[i] & 0xFF) * P5), 11) * P1;
      }
      h = (h ^ (h >>> 33)) * P2;
      h = (h ^ (h >>> 29)) * P3;
      return h ^ (h >>> 32);
    }

    static long round(long acc, long input) {
      return Long.rotateLeft(acc + input * P2, 31) * P1;
    }

    static long le64(byte[] b, int i) {
      long v = 0;
      for (int k = 7; k >= 0; k--) {
        v = (v << 8) | (b[i + k] & 0xFF);
      }
      return v;
    }
  }
}
