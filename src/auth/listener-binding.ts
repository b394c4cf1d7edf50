/**
 * What a connection knows about the listener it arrived on: Kafka's listener name, its security
 * protocol, the SASL mechanisms it offers, and the endpoint advertised to clients of that listener
 * (Metadata and DescribeCluster answer with the endpoint of the listener the client used, as Kafka does).
 */
export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";

export interface ListenerBinding {
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  readonly saslMechanisms: readonly string[];
  /** Filled in once the listener is bound (a configured port 0 becomes the real port). */
  advertised: { host: string; port: number };
}
