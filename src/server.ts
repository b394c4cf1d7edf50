/**
 * `bun run server [server.properties] [--override key=value ...]`: starts one Bunka broker.
 * One TCP server per listener (TLS for SSL / SASL_SSL). Prints `bunka listening on HOST:PORT` for
 * the first listener once every listener accepts connections, then `bunka listener NAME (PROTOCOL)
 * on HOST:PORT` for each; SIGTERM/SIGINT stop it gracefully (in-flight requests answered, logs
 * flushed and closed).
 */
import { Broker } from "./broker/broker.ts";
import { ConfigError, loadBrokerConfig, parseServerArgs } from "./config/broker-config.ts";
import { TcpServer } from "./net/tcp-server.ts";
import { authServiceFor } from "./auth/auth-service.ts";
import type { ListenerBinding } from "./auth/listener-binding.ts";

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
  const credentials = authServiceFor(broker).credentials; // a damaged credential file stops startup here
  const servers: TcpServer[] = [];
  const bindings: ListenerBinding[] = [];
  const bounds: { host: string; port: number }[] = [];
  for (const [i, listener] of config.listeners.entries()) {
    const security = config.listenerSecurity.get(listener.name)!;
    const advertised = config.advertisedListeners[i]!;
    const binding: ListenerBinding = {
      name: listener.name,
      securityProtocol: security.protocol,
      saslMechanisms: security.saslMechanisms,
      advertised: { host: advertised.host, port: advertised.port },
    };
    const tls = security.protocol === "SSL" || security.protocol === "SASL_SSL" ? config.tls ?? undefined : undefined;
    const server = new TcpServer({
      host: listener.host,
      port: listener.port,
      maxFrameBytes: config.socketRequestMaxBytes,
      idleTimeoutMs: config.connectionsMaxIdleMs,
      dispatcher: broker,
      log,
      listener: binding,
      ...(tls ? { tls } : {}),
    });
    const bound = server.start();
    // A configured port 0 advertises the port we got; a wildcard host advertises the bound address.
    if (binding.advertised.port === 0) binding.advertised.port = bound.port;
    if (binding.advertised.host === "0.0.0.0") binding.advertised.host = bound.host;
    if (i === 0) broker.setBoundPort(bound.host, bound.port);
    servers.push(server);
    bindings.push(binding);
    bounds.push(bound);
  }
  broker.startBackgroundTasks();
  console.log(`bunka listening on ${bounds[0]!.host}:${bounds[0]!.port}`);
  for (const [i, b] of bindings.entries()) console.log(`bunka listener ${b.name} (${b.securityProtocol}) on ${bounds[i]!.host}:${bounds[i]!.port}`);
  if (bindings.some((b) => b.saslMechanisms.length > 0) && credentials.userNames().length === 0) {
    log("config: SASL listeners are enabled but no SCRAM credentials exist yet; add users with `bun run users -- add` (broker stopped) or AlterUserScramCredentials on a PLAINTEXT/SSL listener");
  }
  log(`node ${config.nodeId}, cluster ${broker.clusterId}, data in ${config.dataDir}, advertised ${broker.advertised.host}:${broker.advertised.port}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    broker.purgatory.completeAll(); // long-polls answer now instead of holding shutdown
    await Promise.all(servers.map((s) => s.stop(5000)));
    await broker.shutdown();
    log("stopped cleanly");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

await main();
