package io.keel.status;

/**
 * What one feed subscriber may send. The feed flows from the node to its clients and ignores
 * their messages, but a message must still be one RFC 6455 allows: at most
 * {@code messageBytesMax} bytes over all its frames, and valid UTF-8 when it is text. A
 * message that breaks a rule ends that connection; the caller closes it with the verdict's
 * code and reason. The frames themselves (size, masking, opcodes, reserved bits, fragment
 * order) were checked by the WebSocket decoder before they reach this.
 *
 * <p>Implementation notes. Text is checked as it arrives, frame by frame, with the UTF-8
 * automaton of the Unicode Standard's table 3-7 ("well-formed UTF-8 byte sequences"): a
 * character may straddle two frames, so the state carries over, and a message whose last frame
 * ends inside a character is invalid. Nothing is buffered. Example: {@code C3} then {@code A9}
 * in two frames is "é" and passes; {@code ED A0 80} (a surrogate) fails at {@code A0}, and
 * {@code C0 80} (an overlong NUL) fails at {@code C0}.
 */
final class ClientFrames {
  /** Close code 1002: a frame out of order. */
  static final short PROTOCOL_ERROR = 1002;
  /** Close code 1007: text that is not UTF-8. */
  static final short INVALID_PAYLOAD = 1007;
  /** Close code 1009: a message too big to take. */
  static final short MESSAGE_TOO_BIG = 1009;

  /** The frame kinds that carry a message; control frames are not checked here. */
  enum Kind { TEXT, BINARY, CONTINUATION }

  /** Why a connection must close: an RFC 6455 close code and a short reason. */
  record Close(short code, String reason) {}

  private final long messageBytesMax;
  private boolean inMessage;
  private boolean text;
  // Invariant: 0 <= messageBytes <= messageBytesMax between frames of an accepted message.
  private long messageBytes;
  // Invariant: need == 0 at a character boundary; else need continuation bytes follow, the
  // first of them in lo..hi and the others in 0x80..0xBF.
  private int need;
  private int lo = 0x80;
  private int hi = 0xBF;

  /** The rules for a connection that takes messages of at most {@code messageBytesMax}. */
  ClientFrames(long messageBytesMax) {
    if (messageBytesMax < 1) {
      throw new IllegalArgumentException("messageBytesMax must be > 0, was " + messageBytesMax);
    }
    this.messageBytesMax = messageBytesMax;
  }

  /**
   * Takes one data frame: null while the message keeps to the rules, else the close that ends
   * the connection (and this object's use).
   */
  Close accept(Kind kind, boolean last, byte[] payload) {
    if ((kind == Kind.CONTINUATION) != inMessage) {
      return new Close(PROTOCOL_ERROR, inMessage ? "a new message inside a fragmented one"
          : "a continuation frame outside a message");
    }
    if (!inMessage) {
      inMessage = true;
      text = kind == Kind.TEXT;
      messageBytes = 0;
    }
    messageBytes += payload.length;
    if (messageBytes > messageBytesMax) {
      return new Close(MESSAGE_TOO_BIG, "the feed takes no message over " + messageBytesMax
          + " bytes");
    }
    if (text && !utf8(payload)) {
      return new Close(INVALID_PAYLOAD, "a text message that is not UTF-8");
    }
    if (last) {
      inMessage = false;
      if (text && need > 0) {
        return new Close(INVALID_PAYLOAD, "a text message that ends inside a character");
      }
    }
    return null;
  }

  /** Runs the UTF-8 automaton over {@code bytes}; false at the first byte it cannot take. */
  private boolean utf8(byte[] bytes) {
    for (byte x : bytes) {
      int b = x & 0xFF;
      if (need > 0) {
        if (b < lo || b > hi) {
          return false;
        }
        lo = 0x80;
        hi = 0xBF;
        need--;
      } else if (b >= 0x80 && !lead(b)) {
        return false;
      }
    }
    return true;
  }

  /** Starts a multi-byte character at lead byte {@code b}; false if no character starts so. */
  private boolean lead(int b) {
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      lo = b == 0xE0 ? 0xA0 : 0x80;
      hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      lo = b == 0xF0 ? 0x90 : 0x80;
      hi = b == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    return true;
  }
}
