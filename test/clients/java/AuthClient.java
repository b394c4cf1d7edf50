import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Authenticated round trip for the auth tests: with the given client configs (--prop k=v,
 * repeatable: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.*), optionally
 * upserts a SCRAM user through the Admin API (--upsert-user name:password, SCRAM-SHA-512, the
 * salted password computed by Kafka's client), creates --topic, produces --records strings and
 * reads them back (assign + seek to beginning).
 * Output: JSON lines; the last has "ok":true. Exit 1 on failure.
 */
public class AuthClient {
  public static void main(String[] args) {
    try {
      run(args);
      System.exit(0);
    } catch (Throwable t) {
      System.out.println("{\"ok\":false,\"error\":" + Json.str(String.valueOf(t)) + "}");
      t.printStackTrace();
      System.exit(1);
    }
  }

  static void run(String[] args) throws Exception {
    String bootstrap = null;
    String topic = "auth-" + System.currentTimeMillis();
    String upsert = null;
    int records = 100;
    Map<String, String> props = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--bootstrap": bootstrap = v; i++; break;
        case "--topic": topic = v; i++; break;
        case "--records": records = Integer.parseInt(v); i++; break;
        case "--upsert-user": upsert = v; i++; break;
        case "--prop": {
          int eq = v.indexOf('=');
          props.put(v.substring(0, eq), v.substring(eq + 1));
          i++;
          break;
        }
        default: throw new IllegalArgumentException("unknown argument: " + args[i]);
      }
    }
    Properties base = new Properties();
    base.put("bootstrap.servers", bootstrap);
    base.putAll(props);

    try (Admin admin = Admin.create(base)) {
      if (upsert != null) {
        String[] up = upsert.split(":", 2);
        admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(up[0],
            new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), up[1]))).all().get();
        System.out.println("{\"event\":\"upserted\",\"user\":" + Json.str(up[0]) + "}");
      }
      try {
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) throw e;
      }
    }

    Properties pp = new Properties();
    pp.putAll(base);
    pp.put("acks", "all");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < records; i++) producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
    }
    System.out.println("{\"event\":\"produced\",\"records\":" + records + "}");

    Properties cp = new Properties();
    cp.putAll(base);
    cp.put("enable.auto.commit", "false");
    int seen = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.currentTimeMillis() + 30_000;
      while (seen < records && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          if (!r.value().equals("v" + seen)) throw new RuntimeException("record " + seen + " was " + r.value());
          seen++;
        }
      }
    }
    if (seen != records) throw new RuntimeException("consumed " + seen + " of " + records);
    System.out.println("{\"ok\":true,\"topic\":" + Json.str(topic) + ",\"consumed\":" + seen + "}");
  }
}
