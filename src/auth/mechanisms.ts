/**
 * The SASL mechanisms Bunka serves and the SCRAM parameters behind them (RFC 5802 with the hashes of
 * RFC 7677 / Kafka's SCRAM-SHA-512). The numeric ids are the ones DescribeUserScramCredentials and
 * AlterUserScramCredentials carry (Kafka's ScramMechanism enum: 0 unknown, 1 SHA-256, 2 SHA-512).
 */
export const PLAIN = "PLAIN";
export const SCRAM_SHA_256 = "SCRAM-SHA-256";
export const SCRAM_SHA_512 = "SCRAM-SHA-512";

export type ScramMechanismName = typeof SCRAM_SHA_256 | typeof SCRAM_SHA_512;
export type SaslMechanismName = typeof PLAIN | ScramMechanismName;

export const SERVED_MECHANISMS: readonly SaslMechanismName[] = [PLAIN, SCRAM_SHA_256, SCRAM_SHA_512];

export interface ScramParams {
  readonly name: ScramMechanismName;
  /** Id on the wire (Describe/AlterUserScramCredentials). */
  readonly id: number;
  /** node:crypto digest name. */
  readonly hash: "sha256" | "sha512";
  /** Digest length in bytes (also the salted password's length). */
  readonly keyLength: number;
  /** Kafka refuses credentials outside [4096, 16384] iterations. */
  readonly minIterations: number;
  readonly maxIterations: number;
}

export const SCRAM_PARAMS: Readonly<Record<ScramMechanismName, ScramParams>> = {
  [SCRAM_SHA_256]: { name: SCRAM_SHA_256, id: 1, hash: "sha256", keyLength: 32, minIterations: 4096, maxIterations: 16384 },
  [SCRAM_SHA_512]: { name: SCRAM_SHA_512, id: 2, hash: "sha512", keyLength: 64, minIterations: 4096, maxIterations: 16384 },
};

export function isScramMechanism(name: string): name is ScramMechanismName {
  return name === SCRAM_SHA_256 || name === SCRAM_SHA_512;
}

export function isServedMechanism(name: string): name is SaslMechanismName {
  return (SERVED_MECHANISMS as readonly string[]).includes(name);
}

export function scramById(id: number): ScramParams | undefined {
  return Object.values(SCRAM_PARAMS).find((p) => p.id === id);
}
