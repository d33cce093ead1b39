package io.keel.bench;

import io.keel.bus.BinaryJsonCodec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One batch of routed map gets and the reply that answers it, written and read back: Keel's
 * binary codec of batches ({@link BinaryJsonCodec}) against JSON text (Vert.x's own codec of a
 * {@code JsonObject}), the anchor. The messages are shaped as the map's: each request names
 * its service, key, epoch and a body of operation, map and key; each answer a found entry with
 * a 100 B value and its version. Run with {@code -prof gc} for the bytes allocated.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BatchCodecBenchmark {

  /** Requests in the batch (with 64 gets in flight, batches held 5 to 7). */
  @Param({"1", "8", "64"})
  public int items;

  private JsonObject batch;
  private JsonObject reply;
  private Buffer batchBinary;
  private Buffer replyBinary;
  private Buffer batchText;
  private Buffer replyText;

  /** Builds the batch and its reply, and each in both forms, to read back. */
  @Setup
  public void setup() {
    JsonArray requests = new JsonArray();
    JsonArray answers = new JsonArray();
    String value = "v".repeat(100);
    for (int i = 0; i < items; i++) {
      String key = "key-" + (1_000 + i * 37);
      requests.add(new JsonObject().put("key", key).put("epoch", 3L)
          .put("body", new JsonObject().put("op", "get").put("map", "bench").put("key", key)
              .put("stale", false))
          .put("id", 1_000_000L + i).put("service", "map"));
      answers.add(new JsonObject().put("id", 1_000_000L + i).put("body", new JsonObject()
          .put("found", true).put("value", value).put("version", 40_000L + i)));
    }
    batch = new JsonObject().put("answers", "keel.routed.answers.0c6d1f0e").put("items",
        requests);
    reply = new JsonObject().put("answers", answers);
    batchBinary = BinaryJsonCodec.encode(batch);
    replyBinary = BinaryJsonCodec.encode(reply);
    batchText = batch.toBuffer();
    replyText = reply.toBuffer();
  }

  /** Keel: the batch and the reply written in binary form. */
  @Benchmark
  public int binary_write() {
    return BinaryJsonCodec.encode(batch).length() + BinaryJsonCodec.encode(reply).length();
  }

  /** Keel: the batch and the reply read from binary form. */
  @Benchmark
  public int binary_read() {
    return BinaryJsonCodec.decode(batchBinary).size() + BinaryJsonCodec.decode(replyBinary)
        .size();
  }

  /** Anchor: the batch and the reply written as JSON text. */
  @Benchmark
  public int text_write() {
    return batch.toBuffer().length() + reply.toBuffer().length();
  }

  /** Anchor: the batch and the reply read from JSON text. */
  @Benchmark
  public int text_read() {
    return new JsonObject(batchText).size() + new JsonObject(replyText).size();
  }

  /** Prints the bytes of each form (JMH runs the timings: {@code org.openjdk.jmh.Main}). */
  public static void main(String[] args) {
    for (int n : new int[] {1, 8, 64}) {
      BatchCodecBenchmark b = new BatchCodecBenchmark();
      b.items = n;
      b.setup();
      System.out.printf("%d items: batch %d B binary, %d B text; reply %d B binary, %d B text%n",
          n, b.batchBinary.length(), b.batchText.length(), b.replyBinary.length(),
          b.replyText.length());
    }
  }
}
