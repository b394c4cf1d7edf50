import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * One member of a consumer group (classic protocol by default): subscribes to a topic, and after
 * every poll prints what it got, then commits synchronously and prints the commit. The test joins
 * several of these, kills some, and checks the union of their output.
 *
 * Usage: GroupConsume --bootstrap HOST:PORT --topic T --group G [--idle-exit-ms 10000]
 *   [--max-ms 120000] [--poll-sleep-ms 0] [--max-poll-records 500] [--assignor range|cooperative-sticky]
 *   [--instance-id ID (static member)] [--label L (commit metadata)] [--session-timeout-ms 6000]
 *   [--group-protocol classic|consumer] [--stop-on-stdin] [--prop key=value]...
 *
 * --group-protocol consumer (KIP-848): session timeout, heartbeat interval and the client-side
 * assignor are the broker's business, so they are not set; --assignor then names the server-side
 * assignor (group.remote.assignor: uniform or range). --stop-on-stdin: a line "stop" on stdin
 * closes the consumer cleanly (it leaves the group) and exits.
 *
 * Output (JSON lines, flushed at once):
 *   {"event":"assigned","partitions":[..]}        after each (incremental) assignment
 *   {"event":"revoked","partitions":[..]}
 *   {"event":"records","ranges":[[p,first,last,count],..]}  per poll, before its commit
 *   {"event":"commit","offsets":{"p":next,..}}     after commitSync returned
 *   {"event":"subscribed"}                         right after subscribe() (rebalance timing)
 *   every event line also carries "ts" (epoch ms) for rebalance timing
 *   {"ok":true,"consumed":N}                       at exit (idle-exit-ms without records or
 *                                                  assignment since the first assignment, or max-ms)
 */
public class GroupConsume {
  static String bootstrap;
  static String topic;
  static String group;
  static long idleExitMs = 10_000;
  static long maxMs = 120_000;
  static long pollSleepMs = 0;
  static int maxPollRecords = 500;
  static String assignor = null;
  static String instanceId = null;
  static String label = "";
  static int sessionTimeoutMs = 6000;
  static String groupProtocol = "classic";
  static boolean stopOnStdin = false;
  static volatile boolean stopRequested = false;
  static final Properties extra = new Properties();
  /** Last time records arrived or partitions were assigned; 0 until the first assignment. */
  static volatile long lastActivity = 0;

  public static void main(String[] args) throws Exception {
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--bootstrap": bootstrap = v; i++; break;
        case "--topic": topic = v; i++; break;
        case "--group": group = v; i++; break;
        case "--idle-exit-ms": idleExitMs = Long.parseLong(v); i++; break;
        case "--max-ms": maxMs = Long.parseLong(v); i++; break;
        case "--poll-sleep-ms": pollSleepMs = Long.parseLong(v); i++; break;
        case "--max-poll-records": maxPollRecords = Integer.parseInt(v); i++; break;
        case "--assignor": assignor = v; i++; break;
        case "--instance-id": instanceId = v; i++; break;
        case "--label": label = v; i++; break;
        case "--session-timeout-ms": sessionTimeoutMs = Integer.parseInt(v); i++; break;
        case "--group-protocol": groupProtocol = v; i++; break;
        case "--stop-on-stdin": stopOnStdin = true; break;
        case "--prop": {
          int eq = v.indexOf('=');
          extra.put(v.substring(0, eq), v.substring(eq + 1));
          i++;
          break;
        }
        default: throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (bootstrap == null || topic == null || group == null) throw new IllegalArgumentException("--bootstrap, --topic and --group are required");
    try {
      run();
    } catch (Exception e) {
      emit("{\"ok\":false,\"error\":" + Json.str(e.toString()) + "}");
      System.exit(1);
    }
  }

  static void emit(String line) {
    if (line.startsWith("{\"event\"")) line = "{\"ts\":" + System.currentTimeMillis() + "," + line.substring(1);
    System.out.println(line);
    System.out.flush();
  }

  static String partitions(Collection<TopicPartition> tps) {
    List<Integer> ps = new ArrayList<>();
    for (TopicPartition tp : tps) ps.add(tp.partition());
    ps.sort(null);
    return ps.toString().replace(" ", "");
  }

  static void run() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    boolean kip848 = "consumer".equals(groupProtocol);
    p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, kip848 ? "consumer" : "classic");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(maxPollRecords));
    if (!kip848) {
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, String.valueOf(sessionTimeoutMs));
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, String.valueOf(Math.max(500, sessionTimeoutMs / 6)));
    }
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    if (instanceId != null) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
    if (kip848) {
      if (assignor != null) p.put(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, assignor);
    } else if ("cooperative-sticky".equals(assignor)) {
      p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
    } else if ("range".equals(assignor)) {
      p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, "org.apache.kafka.clients.consumer.RangeAssignor");
    }
    p.putAll(extra);
    long consumed = 0;
    long start = System.currentTimeMillis();
    // Offsets whose commit failed (e.g. RebalanceInProgressException while a cooperative rebalance
    // runs); retried with the next commit for the partitions this member still owns.
    Map<TopicPartition, OffsetAndMetadata> carry = new TreeMap<>((a, b) -> a.partition() - b.partition());
    if (stopOnStdin) {
      Thread t = new Thread(() -> {
        try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in))) {
          String line;
          while ((line = in.readLine()) != null) if (line.trim().equals("stop")) break;
        } catch (java.io.IOException e) {
          // stdin closed: stop as well
        }
        stopRequested = true;
      });
      t.setDaemon(true);
      t.start();
    }
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override public void onPartitionsRevoked(Collection<TopicPartition> parts) {
          emit("{\"event\":\"revoked\",\"partitions\":" + partitions(parts) + "}");
        }
        @Override public void onPartitionsAssigned(Collection<TopicPartition> parts) {
          lastActivity = System.currentTimeMillis();
          emit("{\"event\":\"assigned\",\"partitions\":" + partitions(parts) + "}");
        }
      });
      emit("{\"event\":\"subscribed\"}");
      while (System.currentTimeMillis() - start < maxMs && !stopRequested) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          // Idle only counts once the member is in the group (joining can be slow on a loaded box).
          if (lastActivity > 0 && System.currentTimeMillis() - lastActivity > idleExitMs) break;
          continue;
        }
        lastActivity = System.currentTimeMillis();
        Map<Integer, long[]> ranges = new TreeMap<>();
        Map<TopicPartition, OffsetAndMetadata> commit = new TreeMap<>((a, b) -> a.partition() - b.partition());
        for (ConsumerRecord<byte[], byte[]> r : records) {
          long[] range = ranges.computeIfAbsent(r.partition(), k -> new long[] {r.offset(), r.offset(), 0});
          range[1] = r.offset();
          range[2]++;
          commit.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1, "by " + label));
          consumed++;
        }
        StringBuilder b = new StringBuilder("{\"event\":\"records\",\"ranges\":[");
        boolean first = true;
        for (Map.Entry<Integer, long[]> e : ranges.entrySet()) {
          if (!first) b.append(',');
          first = false;
          long[] r = e.getValue();
          b.append('[').append(e.getKey()).append(',').append(r[0]).append(',').append(r[1]).append(',').append(r[2]).append(']');
        }
        emit(b.append("]}").toString());
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : carry.entrySet()) {
          if (!commit.containsKey(e.getKey()) && consumer.assignment().contains(e.getKey())) commit.put(e.getKey(), e.getValue());
        }
        carry.clear();
        try {
          consumer.commitSync(commit);
        } catch (Exception e) {
          // A rebalance took the partitions meanwhile: their next owner starts from the last commit.
          carry.putAll(commit);
          emit("{\"event\":\"commit-failed\",\"error\":" + Json.str(e.toString()) + "}");
          continue;
        }
        StringBuilder c = new StringBuilder("{\"event\":\"commit\",\"offsets\":{");
        first = true;
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : commit.entrySet()) {
          if (!first) c.append(',');
          first = false;
          c.append('"').append(e.getKey().partition()).append("\":").append(e.getValue().offset());
        }
        emit(c.append("}}").toString());
        if (pollSleepMs > 0) Thread.sleep(pollSleepMs);
      }
      if (stopRequested) emit("{\"event\":\"closing\"}");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (stopRequested) emit("{\"event\":\"closed\"}");
    emit("{\"ok\":true,\"consumed\":" + consumed + "}");
  }
}
