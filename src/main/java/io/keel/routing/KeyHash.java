package io.keel.routing;

/**
 * The key hash of Keel's wire and on-disk format: xxHash64 with seed 0 over the key's UTF-8
 * bytes, and the partition a hash falls in.
 *
 * <p>{@link #hash64(CharSequence)} equals {@code hash64(key.toString().getBytes(UTF_8))} for
 * every string, including unpaired surrogates (encoded as {@code '?'}, as
 * {@code String.getBytes} does), and allocates nothing: it encodes the characters to UTF-8 on
 * the fly and feeds the bytes to xxHash64 eight at a time.
 *
 * <h2>Implementation notes</h2>
 * xxHash64 consumes 32-byte stripes in four independent 8-byte lanes and then folds the tail
 * (under 32 bytes) with different rounds. A streaming encoder does not know the UTF-8 length in
 * advance, so it holds the current stripe's first three words in locals and runs the four lane
 * rounds only when the fourth word completes. Whatever is left at the end (0-3 whole words and
 * a partial word of 0-7 bytes) is exactly the xxHash64 tail. The byte order is little-endian, as
 * in the reference implementation. Pure ASCII runs, the common case for keys, are packed eight
 * characters to a word without the per-character branch.
 */
public final class KeyHash {

  private static final long P1 = 0x9E3779B185EBCA87L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;
  private static final long P3 = 0x165667B19E3779F9L;
  private static final long P4 = 0x85EBCA77C2B2AE63L;
  private static final long P5 = 0x27D4EB2F165667C5L;

  private KeyHash() {
  }

  /**
   * Returns xxHash64 (seed 0) of the UTF-8 encoding of {@code key}, without allocating.
   *
   * @param key the key, not null
   * @return the 64-bit hash
   */
  public static long hash64(CharSequence key) {
    final int n = key.length();
    long v1 = P1 + P2;
    long v2 = P2;
    long v3 = 0;
    long v4 = -P1;
    long w0 = 0;
    long w1 = 0;
    long w2 = 0;
    int words = 0; // whole words of the current stripe held in w0..w2
    long acc = 0; // the partial word, little-endian
    int accBytes = 0; // 0..7
    long total = 0; // UTF-8 bytes so far
    int i = 0;
    while (i < n) {
      long packed;
      int len;
      if (i + 8 <= n) {
        long ascii = asciiWord(key, i);
        if (ascii >= 0) {
          i += 8;
          total += 8;
          // Eight bytes complete the partial word and leave as many bytes behind.
          long word = acc | ascii << (accBytes << 3);
          acc = accBytes == 0 ? 0 : ascii >>> ((8 - accBytes) << 3);
          switch (words) {
            case 0: w0 = word; words = 1; break;
            case 1: w1 = word; words = 2; break;
            case 2: w2 = word; words = 3; break;
            default:
              v1 = round(v1, w0);
              v2 = round(v2, w1);
              v3 = round(v3, w2);
              v4 = round(v4, word);
              words = 0;
          }
          continue;
        }
      }
      char c = key.charAt(i++);
      if (c < 0x80) {
        packed = c;
        len = 1;
      } else if (c < 0x800) {
        packed = (0xC0 | (c >>> 6)) | ((0x80 | (c & 0x3F)) << 8);
        len = 2;
      } else if (Character.isSurrogate(c)) {
        char d;
        if (Character.isHighSurrogate(c) && i < n && Character.isLowSurrogate(d = key.charAt(i))) {
          i++;
          int cp = Character.toCodePoint(c, d);
          packed = (0xF0 | (cp >>> 18))
              | ((0x80 | ((cp >>> 12) & 0x3F)) << 8)
              | ((0x80 | ((cp >>> 6) & 0x3F)) << 16)
              | ((long) (0x80 | (cp & 0x3F)) << 24);
          len = 4;
        } else {
          packed = '?';
          len = 1;
        }
      } else {
        packed = (0xE0 | (c >>> 12)) | ((0x80 | ((c >>> 6) & 0x3F)) << 8)
            | ((0x80 | (c & 0x3F)) << 16);
        len = 3;
      }
      total += len;
      acc |= packed << (accBytes << 3);
      int free = 8 - accBytes;
      if (len < free) {
        accBytes += len;
        continue;
      }
      // The word is complete: hand it to the stripe, keep what did not fit.
      long word = acc;
      acc = len == free ? 0 : packed >>> (free << 3);
      accBytes = len - free;
      switch (words) {
        case 0: w0 = word; words = 1; break;
        case 1: w1 = word; words = 2; break;
        case 2: w2 = word; words = 3; break;
        default:
          v1 = round(v1, w0);
          v2 = round(v2, w1);
          v3 = round(v3, w2);
          v4 = round(v4, word);
          words = 0;
      }
    }
    long h;
    if (total >= 32) {
      h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12)
          + Long.rotateLeft(v4, 18);
      h = merge(h, v1);
      h = merge(h, v2);
      h = merge(h, v3);
      h = merge(h, v4);
    } else {
      h = P5;
    }
    h += total;
    if (words > 0) {
      h = tailWord(h, w0);
    }
    if (words > 1) {
      h = tailWord(h, w1);
    }
    if (words > 2) {
      h = tailWord(h, w2);
    }
    return finish(h, acc, accBytes);
  }

  /**
   * Returns xxHash64 (seed 0) of {@code bytes}.
   *
   * @param bytes the bytes, not null
   * @return the 64-bit hash
   */
  public static long hash64(byte[] bytes) {
    final int n = bytes.length;
    int p = 0;
    long h;
    if (n >= 32) {
      long v1 = P1 + P2;
      long v2 = P2;
      long v3 = 0;
      long v4 = -P1;
      do {
        v1 = round(v1, word(bytes, p));
        v2 = round(v2, word(bytes, p + 8));
        v3 = round(v3, word(bytes, p + 16));
        v4 = round(v4, word(bytes, p + 24));
        p += 32;
      } while (p <= n - 32);
      h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12)
          + Long.rotateLeft(v4, 18);
      h = merge(h, v1);
      h = merge(h, v2);
      h = merge(h, v3);
      h = merge(h, v4);
    } else {
      h = P5;
    }
    h += n;
    while (p <= n - 8) {
      h = tailWord(h, word(bytes, p));
      p += 8;
    }
    long rest = 0;
    for (int k = n - 1; k >= p; k--) {
      rest = (rest << 8) | (bytes[k] & 0xFF);
    }
    return finish(h, rest, n - p);
  }

  /**
   * Returns the partition of a key hash: the hash, read as unsigned, modulo {@code partitions}.
   *
   * @param hash a {@link #hash64} value
   * @param partitions the partition count, at least 1
   * @return a partition in {@code 0..partitions-1}
   */
  public static int partition(long hash, int partitions) {
    return (int) Long.remainderUnsigned(hash, partitions);
  }

  /** Eight ASCII characters as a little-endian word, or -1 if any of them is not ASCII. */
  private static long asciiWord(CharSequence s, int i) {
    long c0 = s.charAt(i);
    long c1 = s.charAt(i + 1);
    long c2 = s.charAt(i + 2);
    long c3 = s.charAt(i + 3);
    long c4 = s.charAt(i + 4);
    long c5 = s.charAt(i + 5);
    long c6 = s.charAt(i + 6);
    long c7 = s.charAt(i + 7);
    if (((c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7) & ~0x7FL) != 0) {
      return -1;
    }
    return c0 | c1 << 8 | c2 << 16 | c3 << 24 | c4 << 32 | c5 << 40 | c6 << 48 | c7 << 56;
  }

  private static long word(byte[] b, int p) {
    return (b[p] & 0xFFL) | (b[p + 1] & 0xFFL) << 8 | (b[p + 2] & 0xFFL) << 16
        | (b[p + 3] & 0xFFL) << 24 | (b[p + 4] & 0xFFL) << 32 | (b[p + 5] & 0xFFL) << 40
        | (b[p + 6] & 0xFFL) << 48 | (b[p + 7] & 0xFFL) << 56;
  }

  private static long round(long acc, long input) {
    return Long.rotateLeft(acc + input * P2, 31) * P1;
  }

  private static long merge(long h, long v) {
    return (h ^ round(0, v)) * P1 + P4;
  }

  private static long tailWord(long h, long word) {
    return Long.rotateLeft(h ^ round(0, word), 27) * P1 + P4;
  }

  /** Folds the last 0-7 bytes (little-endian in {@code rest}) and avalanches. */
  private static long finish(long h, long rest, int restBytes) {
    if (restBytes >= 4) {
      h ^= (rest & 0xFFFFFFFFL) * P1;
      h = Long.rotateLeft(h, 23) * P2 + P3;
      rest >>>= 32;
      restBytes -= 4;
    }
    while (restBytes > 0) {
      h ^= (rest & 0xFF) * P5;
      h = Long.rotateLeft(h, 11) * P1;
      rest >>>= 8;
      restBytes--;
    }
    h ^= h >>> 33;
    h *= P2;
    h ^= h >>> 29;
    h *= P3;
    h ^= h >>> 32;
    return h;
  }
}
