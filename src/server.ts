/**
 * `bun run server [server.properties] [--override key=value ...]`: starts one Bunka broker.
 * Prints `bunka listening on HOST:PORT` once it accepts connections; SIGTERM/SIGINT stop it
 * gracefully (in-flight requests answered, logs flushed and closed).
 */
import { Broker } from "./broker/broker.ts";
import { ConfigError, loadBrokerConfig, parseServerArgs } from "./config/broker-config.ts";
import { TcpServer } from "./net/tcp-server.ts";

const log = (msg: string) => console.error(`[${new Date().toISOString()}] ${msg}`);

async function main(): Promise<void> {
  let config;
  try {
    config = loadBrokerConfig(parseServerArgs(process.argv.slice(2)));
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`bunka: invalid configuration: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  for (const w of config.warnings) log(`config: ${w}`);

  const broker = await Broker.open(config, log);
  const listener = config.listeners[0]!;
  const server = new TcpServer({
    host: listener.host,
    port: listener.port,
    maxFrameBytes: config.socketRequestMaxBytes,
    idleTimeoutMs: config.connectionsMaxIdleMs,
    dispatcher: broker,
    log,
  });
  const bound = server.start();
  broker.setBoundPort(bound.host, bound.port);
  broker.startBackgroundTasks();
  console.log(`bunka listening on ${bound.host}:${bound.port}`);
  log(`node ${config.nodeId}, cluster ${broker.clusterId}, data in ${config.dataDir}, advertised ${broker.advertised.host}:${broker.advertised.port}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    broker.purgatory.completeAll(); // long-polls answer now instead of holding shutdown
    await server.stop(5000);
    await broker.shutdown();
    log("stopped cleanly");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

await main();
