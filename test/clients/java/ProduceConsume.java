import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Produces N records with the Java producer (its defaults: idempotence on, acks=all),
 * then reads them all back with a group-less consumer (assign + seek to beginning) and
 * checks every record: same partition and offset the producer was told, key, value
 * bytes, headers, per-partition order, nothing missing or duplicated.
 *
 * Record i: key "key-<i>", value = 8-byte big-endian i followed by deterministic
 * pseudo-random bytes seeded by i (so it can be regenerated rather than stored);
 * every 7th record carries two headers, every 13th has a null key.
 *
 * Args: --bootstrap host:port (required) --topic T (default java-pc-<time>)
 *       --records N (100000) --partitions P (6) --value-size B (1000)
 *       --compression none|gzip|snappy|lz4|zstd (producer default: none)
 *       --timeout-ms T (120000) for the consume phase
 *       --producer-prop k=v / --consumer-prop k=v (repeatable) extra client configs
 * Output: JSON lines on stdout; the last one has "ok":true. Exit 1 on any failure.
 */
public class ProduceConsume {
  static String bootstrap;
  static String topic = "java-pc-" + System.currentTimeMillis();
  static int records = 100_000;
  static int partitions = 6;
  static int valueSize = 1000;
  static String compression = null;
  static long timeoutMs = 120_000;
  static final Map<String, String> producerProps = new HashMap<>();
  static final Map<String, String> consumerProps = new HashMap<>();

  public static void main(String[] args) {
    try {
      parseArgs(args);
      run();
      System.exit(0);
    } catch (Throwable t) {
      System.out.println("{\"ok\":false,\"error\":" + Json.str(t.toString()) + "}");
      t.printStackTrace();
      System.exit(1);
    }
  }

  static void parseArgs(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (a) {
        case "--bootstrap": bootstrap = v; i++; break;
        case "--topic": topic = v; i++; break;
        case "--records": records = Integer.parseInt(v); i++; break;
        case "--partitions": partitions = Integer.parseInt(v); i++; break;
        case "--value-size": valueSize = Integer.parseInt(v); i++; break;
        case "--compression": compression = v; i++; break;
        case "--timeout-ms": timeoutMs = Long.parseLong(v); i++; break;
        case "--producer-prop": putProp(producerProps, v); i++; break;
        case "--consumer-prop": putProp(consumerProps, v); i++; break;
        default: throw new IllegalArgumentException("unknown argument: " + a);
      }
    }
    if (bootstrap == null) throw new IllegalArgumentException("--bootstrap host:port is required");
    if (valueSize < 8) throw new IllegalArgumentException("--value-size must be >= 8");
  }

  static void putProp(Map<String, String> m, String kv) {
    int eq = kv.indexOf('=');
    if (eq <= 0) throw new IllegalArgumentException("expected key=value, got " + kv);
    m.put(kv.substring(0, eq), kv.substring(eq + 1));
  }

  static byte[] key(int i) {
    return i % 13 == 0 ? null : ("key-" + i).getBytes(StandardCharsets.UTF_8);
  }

  static byte[] value(int i) {
    byte[] b = new byte[valueSize];
    ByteBuffer.wrap(b).putLong(i);
    long x = 0x9E3779B97F4A7C15L * (i + 1); // splitmix64 stream seeded by i
    for (int p = 8; p < b.length; p++) {
      if (((p - 8) & 7) == 0) {
        x += 0x9E3779B97F4A7C15L;
        long z = x;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        x = z ^ (z >>> 31);
      }
      b[p] = (byte) (x >>> (((p - 8) & 7) * 8));
    }
    return b;
  }

  static List<Header> headers(int i) {
    if (i % 7 != 0) return Collections.emptyList();
    List<Header> h = new ArrayList<>();
    h.add(new RecordHeader("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
    h.add(new RecordHeader("origin", "bunka-java-test".getBytes(StandardCharsets.UTF_8)));
    return h;
  }

  static void run() throws Exception {
    long t0 = System.nanoTime();
    ensureTopic();
    long tTopic = System.nanoTime();

    // ---- produce
    int[] partOf = new int[records];
    long[] offOf = new long[records];
    Arrays.fill(partOf, -1);
    AtomicInteger acked = new AtomicInteger();
    AtomicReference<Exception> sendError = new AtomicReference<>();
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.CLIENT_ID_CONFIG, "bunka-test-producer");
    if (compression != null) pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    pp.putAll(producerProps);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < records; i++) {
        final int seq = i;
        if (sendError.get() != null) break;
        producer.send(
            new ProducerRecord<>(topic, null, null, key(i), value(i), headers(i)),
            (md, e) -> {
              if (e != null) {
                sendError.compareAndSet(null, e);
              } else {
                partOf[seq] = md.partition();
                offOf[seq] = md.offset();
                acked.incrementAndGet();
              }
            });
      }
      producer.flush();
    }
    if (sendError.get() != null) throw new RuntimeException("send failed", sendError.get());
    if (acked.get() != records) throw new RuntimeException("acked " + acked.get() + " of " + records);
    long tProduced = System.nanoTime();
    long[] perPartition = new long[partitions];
    for (int i = 0; i < records; i++) perPartition[partOf[i]]++;
    System.out.println("{\"event\":\"produced\",\"topic\":" + Json.str(topic) + ",\"count\":" + records
        + ",\"perPartition\":" + Arrays.toString(perPartition).replace(" ", "")
        + ",\"ms\":" + ms(tTopic, tProduced) + "}");

    // Expected order per partition: seqs sorted by the offsets the producer was given.
    Map<Integer, Map<Long, Integer>> expected = new HashMap<>();
    for (int i = 0; i < records; i++) {
      Integer prev = expected.computeIfAbsent(partOf[i], k -> new HashMap<>()).put(offOf[i], i);
      if (prev != null) {
        throw new RuntimeException("producer got offset " + offOf[i] + " twice in partition " + partOf[i]
            + " (records " + prev + " and " + i + ")");
      }
    }

    // ---- consume (no group: assign + seek to beginning)
    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "bunka-test-consumer");
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cp.putAll(consumerProps);
    int consumed = 0;
    byte[] seen = new byte[records];
    long[] lastOffset = new long[partitions];
    Arrays.fill(lastOffset, -1);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
      for (TopicPartition tp : tps) {
        long want = expected.getOrDefault(tp.partition(), Collections.emptyMap()).size();
        Map<TopicPartition, Long> beg = consumer.beginningOffsets(List.of(tp), Duration.ofSeconds(30));
        long have = end.get(tp) - beg.get(tp);
        if (have != want) {
          throw new RuntimeException("partition " + tp.partition() + ": end-begin offsets " + have
              + " but producer acked " + want);
        }
      }
      long deadline = System.currentTimeMillis() + timeoutMs;
      while (consumed < records) {
        if (System.currentTimeMillis() > deadline) {
          throw new RuntimeException("timed out after consuming " + consumed + " of " + records);
        }
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(500));
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          int p = r.partition();
          if (r.offset() <= lastOffset[p]) {
            throw new RuntimeException("partition " + p + ": offset " + r.offset() + " after " + lastOffset[p]);
          }
          lastOffset[p] = r.offset();
          Integer seq = expected.getOrDefault(p, Collections.emptyMap()).get(r.offset());
          if (seq == null) throw new RuntimeException("unexpected record at " + p + "@" + r.offset());
          if (seen[seq] != 0) throw new RuntimeException("record " + seq + " consumed twice");
          seen[seq] = 1;
          check(seq, r);
          consumed++;
        }
      }
      // Nothing beyond what we produced.
      ConsumerRecords<byte[], byte[]> extra = consumer.poll(Duration.ofMillis(200));
      if (!extra.isEmpty()) throw new RuntimeException("got " + extra.count() + " records beyond the produced ones");
    }
    long tConsumed = System.nanoTime();
    System.out.println("{\"event\":\"consumed\",\"topic\":" + Json.str(topic) + ",\"count\":" + consumed
        + ",\"ms\":" + ms(tProduced, tConsumed) + "}");
    System.out.println("{\"ok\":true,\"topic\":" + Json.str(topic) + ",\"produced\":" + records
        + ",\"consumed\":" + consumed + ",\"partitions\":" + partitions
        + ",\"createTopicMs\":" + ms(t0, tTopic) + ",\"produceMs\":" + ms(tTopic, tProduced)
        + ",\"consumeMs\":" + ms(tProduced, tConsumed) + ",\"elapsedMs\":" + ms(t0, tConsumed) + "}");
  }

  static void check(int seq, ConsumerRecord<byte[], byte[]> r) {
    byte[] k = key(seq);
    if (!Arrays.equals(k, r.key())) {
      throw new RuntimeException("record " + seq + ": key mismatch: "
          + (r.key() == null ? "null" : new String(r.key(), StandardCharsets.UTF_8)));
    }
    if (!Arrays.equals(value(seq), r.value())) throw new RuntimeException("record " + seq + ": value mismatch");
    List<Header> want = headers(seq);
    Header[] got = r.headers().toArray();
    if (got.length != want.size()) {
      throw new RuntimeException("record " + seq + ": " + got.length + " headers, want " + want.size());
    }
    for (int h = 0; h < got.length; h++) {
      if (!got[h].key().equals(want.get(h).key()) || !Arrays.equals(got[h].value(), want.get(h).value())) {
        throw new RuntimeException("record " + seq + ": header " + h + " mismatch");
      }
    }
    if (r.timestamp() <= 0) throw new RuntimeException("record " + seq + ": timestamp " + r.timestamp());
  }

  static void ensureTopic() throws Exception {
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(ap)) {
      try {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        System.out.println("{\"event\":\"topicCreated\",\"topic\":" + Json.str(topic) + ",\"partitions\":" + partitions + "}");
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) throw e;
      }
      // Wait until metadata shows all partitions with a leader.
      long deadline = System.currentTimeMillis() + 30_000;
      while (true) {
        try {
          Map<String, TopicDescription> d = admin.describeTopics(Set.of(topic)).allTopicNames().get();
          TopicDescription td = d.get(topic);
          if (td.partitions().size() != partitions) {
            throw new RuntimeException("topic " + topic + " has " + td.partitions().size()
                + " partitions, want " + partitions);
          }
          if (td.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) return;
        } catch (ExecutionException e) {
          if (System.currentTimeMillis() > deadline) throw e;
        }
        if (System.currentTimeMillis() > deadline) throw new RuntimeException("topic " + topic + " has no leaders");
        Thread.sleep(100);
      }
    }
  }

  static long ms(long fromNanos, long toNanos) {
    return (toNanos - fromNanos) / 1_000_000;
  }
}
