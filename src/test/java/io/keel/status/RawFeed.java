package io.keel.status;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The feed over a plain {@link Socket}, to send what no WebSocket library sends: frames too big,
 * unmasked, with reserved opcodes or bits, out of order, or text that is not UTF-8. Frames are
 * built by hand after RFC 6455 §5.2.
 */
final class RawFeed {
  private static final int TIMEOUT_MS = 30_000;
  private static final byte[] MASK = {0x37, (byte) 0xfa, 0x21, 0x3d};

  /** Something a client should never send; {@code closeCode} -1 when any close will do. */
  record BadInput(String name, byte[] bytes, int closeCode) {}

  private RawFeed() {}

  /** The bad inputs, each to be sent on a connection of its own. */
  static List<BadInput> badInputs() {
    ByteArrayOutputStream longMessage = new ByteArrayOutputStream();
    longMessage.writeBytes(frame(false, 0x2, true, new byte[40_000]));
    longMessage.writeBytes(frame(true, 0x0, true, new byte[40_000]));
    byte[] claimsExabytes = {(byte) 0x82, (byte) 0xff, 0x7f, -1, -1, -1, -1, -1, -1, -1,
        MASK[0], MASK[1], MASK[2], MASK[3], 1, 2, 3};
    byte[] rsv1 = frame(true, 0x1, true, "hi".getBytes(StandardCharsets.US_ASCII));
    rsv1[0] |= 0x40;
    return List.of(
        new BadInput("a frame over 64 KiB", frame(true, 0x1, true, new byte[70_000]), -1),
        new BadInput("a frame header claiming 2^63 bytes", claimsExabytes, -1),
        new BadInput("a message over 64 KiB in two frames", longMessage.toByteArray(), 1009),
        new BadInput("an unmasked frame", frame(true, 0x1, false, bytes("hi")), -1),
        new BadInput("reserved data opcode 3", frame(true, 0x3, true, bytes("hi")), -1),
        new BadInput("reserved control opcode 0xB", frame(true, 0xB, true, bytes("hi")), -1),
        new BadInput("reserved bit RSV1 without an extension", rsv1, -1),
        new BadInput("text that is not UTF-8",
            frame(true, 0x1, true, new byte[] {'o', 'k', (byte) 0xc3, 0x28}), 1007),
        new BadInput("a continuation outside a message", frame(true, 0x0, true, bytes("hi")), -1),
        new BadInput("a ping over 125 bytes", frame(true, 0x9, true, new byte[200]), -1),
        new BadInput("a fragmented ping", frame(false, 0x9, true, bytes("hi")), -1));
  }

  /**
   * Asks for the feed with {@code authorization} as header and {@code accessToken} as query
   * parameter (either null) and returns the answer's status line and headers; then hangs up.
   */
  static String handshake(int port, String authorization, String accessToken)
      throws IOException {
    try (Socket s = open(port)) {
      s.getOutputStream().write(upgrade(authorization, accessToken));
      return head(new DataInputStream(new BufferedInputStream(s.getInputStream())));
    }
  }

  /**
   * Opens the feed, sends {@code bad}, and reads what follows until the node closes the
   * connection (a close frame, answered as a client would, then the end of the stream; or the
   * end or a reset without one). Returns the close frame's code, or -1 without one. Fails when
   * the connection is still open after 30 s.
   */
  static int sendAndAwaitClose(int port, byte[] bad) throws IOException {
    try (Socket s = open(port)) {
      OutputStream out = s.getOutputStream();
      out.write(upgrade(null, null));
      DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
      String head = head(in);
      if (!head.startsWith("HTTP/1.1 101 ")) {
        throw new AssertionError("the feed did not upgrade: " + head);
      }
      int code = -1;
      long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
      try {
        out.write(bad);
        out.flush();
        while (true) {
          // Events keep coming while it is open: a read alone would never time out.
          if (System.nanoTime() - deadline > 0) {
            throw new AssertionError("the connection is still open " + TIMEOUT_MS + " ms later");
          }
          int b0 = in.read();
          if (b0 < 0) {
            return code;
          }
          byte[] payload = payload(in);
          if ((b0 & 0x0f) == 0x8) {
            code = payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
            out.write(frame(true, 0x8, true, payload));
          }
        }
      } catch (SocketException | EOFException e) {
        return code; // reset by the node, or cut inside a frame: closed all the same
      }
    }
  }

  /** A frame: FIN bit, opcode, masked or not (clients must mask), and its payload. */
  static byte[] frame(boolean fin, int opcode, boolean masked, byte[] payload) {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write((fin ? 0x80 : 0) | opcode);
    int m = masked ? 0x80 : 0;
    if (payload.length < 126) {
      f.write(m | payload.length);
    } else if (payload.length < 65_536) {
      f.write(m | 126);
      f.write(payload.length >> 8);
      f.write(payload.length & 0xff);
    } else {
      f.write(m | 127);
      for (int i = 7; i >= 0; i--) {
        f.write((int) (((long) payload.length >> (8 * i)) & 0xff));
      }
    }
    if (masked) {
      f.write(MASK, 0, 4);
    }
    for (int i = 0; i < payload.length; i++) {
      f.write(masked ? payload[i] ^ MASK[i % 4] : payload[i]);
    }
    return f.toByteArray();
  }

  private static Socket open(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
    s.setSoTimeout(TIMEOUT_MS);
    return s;
  }

  private static byte[] bytes(String ascii) {
    return ascii.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] upgrade(String authorization, String accessToken) {
    return ("GET /status/feed" + (accessToken == null ? "" : "?access_token=" + accessToken)
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + (authorization == null ? "" : "Authorization: " + authorization + "\r\n") + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** The status line and headers, up to the empty line. */
  private static String head(DataInputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("the node hung up inside the answer's head: " + head);
      }
      head.append((char) b);
    }
    return head.toString();
  }

  /** A server frame's payload (servers do not mask), after its first byte. */
  private static byte[] payload(DataInputStream in) throws IOException {
    int b1 = in.readUnsignedByte();
    long length = b1 & 0x7f;
    if (length == 126) {
      length = in.readUnsignedShort();
    } else if (length == 127) {
      length = in.readLong();
    }
    byte[] payload = new byte[Math.toIntExact(length)];
    in.readFully(payload);
    return payload;
  }
}
