import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Exercises the Admin API the way tools and frameworks use it, one step after another,
 * printing a JSON line per step ({"step":..., "ok":true, ...}) and a final {"ok":true}.
 *
 * Steps (all on one fresh topic, 2 partitions, created with retention.ms=3600000):
 *   describeCluster    one broker, a controller, a cluster id
 *   createTopic        with a topic config; creating it again fails with TopicExists
 *   describeTopic      2 partitions, each with a leader
 *   describeConfigs    retention.ms is 3600000 and comes from the topic (DYNAMIC_TOPIC_CONFIG)
 *   produce            10 records with explicit timestamps 1000,2000,...,10000 to partition 0
 *   listOffsets        earliest 0, latest 10, timestamp 4500 -> offset 4, max-timestamp -> 9,
 *                      timestamp after the last -> none (-1)
 *   createPartitions   2 -> 4, then describe shows 4
 *   deleteTopic        then the topic is gone from listTopics and describe fails
 *
 * Args: --bootstrap host:port (required) --topic T (default java-admin-<time>)
 *       --steps a,b,c (default: all, in the order above; later steps need earlier ones)
 * Exit 1 on the first failed step.
 */
public class AdminOps {
  static String bootstrap;
  static String topic = "java-admin-" + System.currentTimeMillis();
  static Set<String> steps = null;

  public static void main(String[] args) {
    String step = "args";
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--bootstrap": bootstrap = args[++i]; break;
          case "--topic": topic = args[++i]; break;
          case "--steps": steps = Set.of(args[++i].split(",")); break;
          default: throw new IllegalArgumentException("unknown argument: " + args[i]);
        }
      }
      if (bootstrap == null) throw new IllegalArgumentException("--bootstrap host:port is required");
      Properties ap = new Properties();
      ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      ap.put(AdminClientConfig.CLIENT_ID_CONFIG, "bunka-test-admin");
      try (Admin admin = Admin.create(ap)) {
        step = "describeCluster"; if (want(step)) describeCluster(admin);
        step = "createTopic"; if (want(step)) createTopic(admin);
        step = "describeTopic"; if (want(step)) describeTopic(admin, 2);
        step = "describeConfigs"; if (want(step)) describeConfigs(admin);
        step = "produce"; if (want(step)) produce();
        step = "listOffsets"; if (want(step)) listOffsets(admin);
        step = "createPartitions"; if (want(step)) createPartitions(admin);
        step = "deleteTopic"; if (want(step)) deleteTopic(admin);
      }
      System.out.println("{\"ok\":true,\"topic\":" + Json.str(topic) + "}");
      System.exit(0);
    } catch (Throwable t) {
      System.out.println("{\"ok\":false,\"step\":" + Json.str(step) + ",\"error\":" + Json.str(t.toString()) + "}");
      t.printStackTrace();
      System.exit(1);
    }
  }

  static boolean want(String step) {
    return steps == null || steps.contains(step);
  }

  static void ok(String step, String extra) {
    System.out.println("{\"step\":" + Json.str(step) + ",\"ok\":true" + (extra.isEmpty() ? "" : "," + extra) + "}");
  }

  static void require(boolean cond, String msg) {
    if (!cond) throw new RuntimeException(msg);
  }

  static void describeCluster(Admin admin) throws Exception {
    DescribeClusterResult r = admin.describeCluster();
    Collection<Node> nodes = r.nodes().get();
    Node controller = r.controller().get();
    String clusterId = r.clusterId().get();
    require(nodes.size() == 1, "expected 1 broker, got " + nodes);
    require(controller != null, "no controller");
    require(clusterId != null && !clusterId.isEmpty(), "no cluster id");
    Node n = nodes.iterator().next();
    ok("describeCluster", "\"clusterId\":" + Json.str(clusterId) + ",\"nodeId\":" + n.id()
        + ",\"host\":" + Json.str(n.host()) + ",\"port\":" + n.port());
  }

  static void createTopic(Admin admin) throws Exception {
    NewTopic nt = new NewTopic(topic, 2, (short) 1).configs(Map.of("retention.ms", "3600000"));
    admin.createTopics(List.of(nt)).all().get();
    try {
      admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
      throw new RuntimeException("creating " + topic + " twice did not fail");
    } catch (ExecutionException e) {
      require(e.getCause() instanceof TopicExistsException, "second create: expected TopicExists, got " + e.getCause());
    }
    require(admin.listTopics().names().get().contains(topic), "listTopics lacks " + topic);
    ok("createTopic", "\"topic\":" + Json.str(topic));
  }

  static TopicDescription waitForPartitions(Admin admin, int n) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    while (true) {
      TopicDescription td = admin.describeTopics(Set.of(topic)).allTopicNames().get().get(topic);
      boolean led = td.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
      if (td.partitions().size() == n && led) return td;
      if (System.currentTimeMillis() > deadline) {
        throw new RuntimeException("topic " + topic + ": " + td.partitions().size() + " partitions (want " + n
            + "), all led: " + led);
      }
      Thread.sleep(100);
    }
  }

  static void describeTopic(Admin admin, int n) throws Exception {
    TopicDescription td = waitForPartitions(admin, n);
    require(!td.isInternal(), "topic is internal");
    require(td.topicId() != null, "no topic id");
    ok("describeTopic", "\"partitions\":" + td.partitions().size() + ",\"topicId\":" + Json.str(td.topicId().toString()));
  }

  static void describeConfigs(Admin admin) throws Exception {
    ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config c = admin.describeConfigs(List.of(res)).all().get().get(res);
    ConfigEntry e = c.get("retention.ms");
    require(e != null, "no retention.ms entry");
    require("3600000".equals(e.value()), "retention.ms = " + e.value());
    require(e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, "retention.ms source = " + e.source());
    ConfigEntry cp = c.get("cleanup.policy");
    require(cp != null && "delete".equals(cp.value()), "cleanup.policy = " + (cp == null ? null : cp.value()));
    ok("describeConfigs", "\"entries\":" + c.entries().size());
  }

  static void produce() throws Exception {
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < 10; i++) {
        byte[] v = ("v" + i).getBytes(StandardCharsets.UTF_8);
        RecordMetadata md = p.send(new ProducerRecord<>(topic, 0, (i + 1) * 1000L, null, v)).get();
        require(md.offset() == i, "record " + i + " got offset " + md.offset());
      }
    }
    ok("produce", "\"count\":10");
  }

  static long offsetFor(Admin admin, OffsetSpec spec) throws Exception {
    TopicPartition tp = new TopicPartition(topic, 0);
    ListOffsetsResult.ListOffsetsResultInfo info = admin.listOffsets(Map.of(tp, spec)).partitionResult(tp).get();
    return info.offset();
  }

  static void listOffsets(Admin admin) throws Exception {
    long earliest = offsetFor(admin, OffsetSpec.earliest());
    long latest = offsetFor(admin, OffsetSpec.latest());
    long at4500 = offsetFor(admin, OffsetSpec.forTimestamp(4500));
    long at1000 = offsetFor(admin, OffsetSpec.forTimestamp(1000));
    long max = offsetFor(admin, OffsetSpec.maxTimestamp());
    long after = offsetFor(admin, OffsetSpec.forTimestamp(20_000));
    require(earliest == 0, "earliest = " + earliest);
    require(latest == 10, "latest = " + latest);
    require(at4500 == 4, "offset for timestamp 4500 = " + at4500);
    require(at1000 == 0, "offset for timestamp 1000 = " + at1000);
    require(max == 9, "offset of max timestamp = " + max);
    require(after == -1, "offset for timestamp past the end = " + after);
    // The other partition is empty.
    TopicPartition tp1 = new TopicPartition(topic, 1);
    long latest1 = admin.listOffsets(Map.of(tp1, OffsetSpec.latest())).partitionResult(tp1).get().offset();
    require(latest1 == 0, "partition 1 latest = " + latest1);
    ok("listOffsets", "\"earliest\":" + earliest + ",\"latest\":" + latest + ",\"at4500\":" + at4500 + ",\"max\":" + max);
  }

  static void createPartitions(Admin admin) throws Exception {
    admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all().get();
    TopicDescription td = waitForPartitions(admin, 4);
    ok("createPartitions", "\"partitions\":" + td.partitions().size());
  }

  static void deleteTopic(Admin admin) throws Exception {
    admin.deleteTopics(List.of(topic)).all().get();
    long deadline = System.currentTimeMillis() + 30_000;
    while (admin.listTopics().names().get().contains(topic)) {
      if (System.currentTimeMillis() > deadline) throw new RuntimeException("topic still listed after delete");
      Thread.sleep(100);
    }
    try {
      admin.describeTopics(Set.of(topic)).allTopicNames().get();
      throw new RuntimeException("describe of deleted topic succeeded");
    } catch (ExecutionException e) {
      require(e.getCause() instanceof UnknownTopicOrPartitionException,
          "describe deleted topic: expected UnknownTopicOrPartition, got " + e.getCause());
    }
    ok("deleteTopic", "");
  }
}
