package io.keel.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Carries a {@link JsonObject} between nodes in a tagged binary form instead of JSON text, for
 * the node-to-node messages that carry many small requests and answers (batched routed
 * requests): with 64 map gets in flight, writing and parsing JSON text was a fifth of a client
 * node's CPU.
 *
 * <p>What a receiver gets is what JSON text would have given it: numbers that fit an
 * {@code int} arrive as {@link Integer}, other integers as {@link Long}, every other number as
 * {@link Double} (or, past a double, as JSON text would have it), maps as {@link JsonObject}s,
 * lists as {@link JsonArray}s, and any other value (bytes, instants, enums) as the JSON text of
 * it would decode. Field order is kept. Sent within one node, the receiver gets a copy, as with
 * Vert.x's own JSON codec.
 *
 * <p>Strings of up to {@link #TABLE_BYTES_MAX} bytes in UTF-8 (field names, and short values
 * such as a service, an operation, a map's name or a key) are numbered in the order a message
 * first holds them, and written again as their number: the items of a batch repeat the same
 * few, and a receiver reads each once, not once per item.
 *
 * <p>Every node registers it ({@link #register}) before it sends or serves batches; a sender
 * names it in its {@link DeliveryOptions} ({@link #options}).
 */
public final class BinaryJsonCodec implements MessageCodec<JsonObject, JsonObject> {
  /** The codec's name on the wire. */
  public static final String NAME = "keel.json.bin.2";
  /** The most UTF-8 bytes of a string that the message's table of strings takes. */
  static final int TABLE_BYTES_MAX = 64;
  /** How many strings the table of one message takes at most; later ones are written out. */
  static final int TABLE_MAX = 4096;

  private static final byte NULL = 0;
  private static final byte TRUE = 1;
  private static final byte FALSE = 2;
  private static final byte INT = 3;
  private static final byte LONG = 4;
  private static final byte DOUBLE = 5;
  private static final byte STRING = 6;
  private static final byte OBJECT = 7;
  private static final byte ARRAY = 8;
  // Anything else, as its JSON text, decoded as JSON text would be.
  private static final byte TEXT = 9;
  // A string's count, when negative: this one says UTF-16 chars follow; any other, -(i + 1),
  // names the message's i-th tabled string. A count >= 0 is of the UTF-8 bytes that follow.
  private static final int UTF16 = Integer.MIN_VALUE;

  /** Registers the codec on {@code bus}, unless it has it already. */
  public static void register(EventBus bus) {
    try {
      bus.registerCodec(new BinaryJsonCodec());
    } catch (IllegalStateException alreadyThere) {
      // Another Keel on the same Vert.x registered it.
    }
  }

  /** New delivery options that name this codec, to add a timeout or headers to. */
  public static DeliveryOptions options() {
    return new DeliveryOptions().setCodecName(NAME);
  }

  @Override
  public void encodeToWire(Buffer buffer, JsonObject o) {
    new Writer(buffer).object(o.getMap());
  }

  @Override
  public JsonObject decodeFromWire(int pos, Buffer buffer) {
    Reader r = new Reader(buffer, pos);
    if (r.buffer.getByte(r.pos++) != OBJECT) {
      throw new IllegalStateException("a " + NAME + " message must hold an object");
    }
    return r.object();
  }

  @Override
  public JsonObject transform(JsonObject o) {
    return o.copy();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }

  /** {@code o} in the binary form, for tests and sizes. */
  public static Buffer encode(JsonObject o) {
    Buffer b = Buffer.buffer(256);
    new Writer(b).object(o.getMap());
    return b;
  }

  /** The object that {@link #encode} wrote. */
  public static JsonObject decode(Buffer b) {
    return new BinaryJsonCodec().decodeFromWire(0, b);
  }

  /** Writes one message, numbering its short strings. */
  private static final class Writer {
    final Buffer b;
    // The strings tabled so far, by number; made at the first.
    Map<String, Integer> table;

    Writer(Buffer b) {
      this.b = b;
    }

    void object(Map<String, Object> map) {
      b.appendByte(OBJECT).appendInt(map.size());
      for (Map.Entry<String, Object> e : map.entrySet()) {
        string(e.getKey());
        value(e.getValue());
      }
    }

    @SuppressWarnings("unchecked")
    void value(Object v) {
      if (v == null) {
        b.appendByte(NULL);
      } else if (v instanceof String s) {
        b.appendByte(STRING);
        string(s);
      } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
        b.appendByte(INT).appendInt(((Number) v).intValue());
      } else if (v instanceof Long l) {
        if (l == l.intValue()) {
          b.appendByte(INT).appendInt(l.intValue());
        } else {
          b.appendByte(LONG).appendLong(l);
        }
      } else if (v instanceof Double d) {
        number(d, d.toString());
      } else if (v instanceof Float f) {
        // JSON text writes a float's shortest decimal (or its name), which reads back as this.
        number(Double.parseDouble(f.toString()), f.toString());
      } else if (v instanceof Boolean bool) {
        b.appendByte(bool ? TRUE : FALSE);
      } else if (v instanceof JsonObject o) {
        object(o.getMap());
      } else if (v instanceof Map<?, ?> m) {
        object((Map<String, Object>) m);
      } else if (v instanceof JsonArray a) {
        array(a.getList());
      } else if (v instanceof List<?> l) {
        array(l);
      } else {
        // Bytes (base64), instants, enums, big numbers: as JSON text would carry them.
        b.appendByte(TEXT);
        string(Json.encode(v));
      }
    }

    void array(List<?> list) {
      b.appendByte(ARRAY).appendInt(list.size());
      for (Object v : list) {
        value(v);
      }
    }

    /** A double, or what JSON text carries for one that is not finite: its name, quoted. */
    void number(double d, String text) {
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        b.appendByte(STRING);
        string(text);
      } else {
        b.appendByte(DOUBLE).appendDouble(d);
      }
    }

    /**
     * A string: its number when tabled already; else its UTF-8 bytes after their count, tabled
     * when short; or, when it holds a surrogate (which UTF-8 would turn into '?' when unpaired,
     * where JSON text keeps it), {@link #UTF16}, its char count and its chars, never tabled.
     */
    void string(String s) {
      if (table != null && s.length() <= TABLE_BYTES_MAX) {
        Integer at = table.get(s);
        if (at != null) {
          b.appendInt(-(at + 1));
          return;
        }
      }
      for (int i = 0; i < s.length(); i++) {
        if (Character.isSurrogate(s.charAt(i))) {
          b.appendInt(UTF16).appendInt(s.length());
          for (int j = 0; j < s.length(); j++) {
            b.appendShort((short) s.charAt(j));
          }
          return;
        }
      }
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      b.appendInt(bytes.length).appendBytes(bytes);
      if (bytes.length <= TABLE_BYTES_MAX) {
        if (table == null) {
          table = new HashMap<>();
        }
        if (table.size() < TABLE_MAX) {
          table.put(s, table.size());
        }
      }
    }
  }

  /** Reads values from a position on. */
  private static final class Reader {
    final Buffer buffer;
    int pos;
    // The strings tabled so far, in the writer's order; made at the first.
    List<String> table;

    Reader(Buffer buffer, int pos) {
      this.buffer = buffer;
      this.pos = pos;
    }

    JsonObject object() {
      int n = buffer.getInt(pos);
      pos += 4;
      // Each field takes at least a key's count and a tag.
      Map<String, Object> map = new LinkedHashMap<>(Math.max(4, count(n, 5) * 4 / 3 + 1));
      for (int i = 0; i < n; i++) {
        String key = string();
        map.put(key, value());
      }
      return new JsonObject(map);
    }

    Object value() {
      byte tag = buffer.getByte(pos++);
      switch (tag) {
        case NULL:
          return null;
        case TRUE:
          return Boolean.TRUE;
        case FALSE:
          return Boolean.FALSE;
        case INT:
          pos += 4;
          return buffer.getInt(pos - 4);
        case LONG:
          pos += 8;
          return buffer.getLong(pos - 8);
        case DOUBLE:
          pos += 8;
          return buffer.getDouble(pos - 8);
        case STRING:
          return string();
        case OBJECT:
          return object();
        case ARRAY:
          int n = buffer.getInt(pos);
          pos += 4;
          List<Object> list = new ArrayList<>(count(n, 1));
          for (int i = 0; i < n; i++) {
            list.add(value());
          }
          return new JsonArray(list);
        case TEXT:
          return Json.decodeValue(string());
        default:
          throw new IllegalStateException("unknown value tag " + tag + " at byte " + (pos - 1)
              + " of a " + NAME + " message");
      }
    }

    String string() {
      int n = buffer.getInt(pos);
      pos += 4;
      if (n == UTF16) {
        n = buffer.getInt(pos);
        pos += 4;
        char[] chars = new char[count(n, 2)];
        for (int i = 0; i < chars.length; i++) {
          chars[i] = (char) buffer.getShort(pos + 2 * i);
        }
        pos += 2 * chars.length;
        return new String(chars);
      }
      if (n < 0) {
        int at = -(n + 1);
        if (table == null || at >= table.size()) {
          throw new IllegalStateException("string " + at + " at byte " + (pos - 4) + " of a "
              + NAME + " message, which has " + (table == null ? 0 : table.size()));
        }
        return table.get(at);
      }
      String s = buffer.getString(pos, pos + count(n, 1));
      pos += n;
      if (n <= TABLE_BYTES_MAX) {
        if (table == null) {
          table = new ArrayList<>();
        }
        if (table.size() < TABLE_MAX) {
          table.add(s);
        }
      }
      return s;
    }

    /** {@code n}, when that many items of {@code bytes} each fit in what is left. */
    int count(int n, int bytes) {
      if (n < 0 || (long) n * bytes > buffer.length() - pos) {
        throw new IllegalStateException("a count of " + n + " at byte " + (pos - 4) + " of a "
            + NAME + " message of " + buffer.length() + " bytes");
      }
      return n;
    }
  }
}
