/**
 * Validation and application of AlterUserScramCredentials: deletions and upsertions (the salted
 * password is computed by the client, as Kafka's admin client does; the broker derives StoredKey
 * and ServerKey from it and keeps nothing else). Checks and error codes follow Kafka: one result
 * per user; a user touched twice for the same mechanism -> DUPLICATE_RESOURCE; unknown mechanism ->
 * UNSUPPORTED_SASL_MECHANISM; bad iterations, empty name/salt/password -> UNACCEPTABLE_CREDENTIAL;
 * deleting a missing credential -> RESOURCE_NOT_FOUND. A user with any error is left unchanged.
 */
import type { CredentialStore, ScramCredential } from "./credential-store.ts";
import { AuthError } from "./errors.ts";
import { scramById, type ScramParams } from "./mechanisms.ts";
import { keysFromSaltedPassword } from "./scram-crypto.ts";

export interface Deletion {
  name: string;
  mechanism: number;
}

export interface Upsertion extends Deletion {
  iterations: number;
  salt: Uint8Array;
  saltedPassword: Uint8Array;
}

export interface UserResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

type Op = { kind: "delete"; d: Deletion } | { kind: "upsert"; u: Upsertion };

function check(store: CredentialStore, op: Op): { error: [number, string] } | { params: ScramParams } {
  const { name, mechanism } = op.kind === "delete" ? op.d : op.u;
  if (name === "") return { error: [AuthError.UNACCEPTABLE_CREDENTIAL, "Username must not be empty"] };
  const params = scramById(mechanism);
  if (!params) return { error: [AuthError.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism"] };
  if (op.kind === "delete") {
    if (!store.get(name, params.name)) return { error: [AuthError.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"] };
    return { params };
  }
  const u = op.u;
  if (u.iterations < params.minIterations) return { error: [AuthError.UNACCEPTABLE_CREDENTIAL, `Too few iterations (minimum ${params.minIterations})`] };
  if (u.iterations > params.maxIterations) return { error: [AuthError.UNACCEPTABLE_CREDENTIAL, `Too many iterations (maximum ${params.maxIterations})`] };
  if (u.salt.length === 0) return { error: [AuthError.UNACCEPTABLE_CREDENTIAL, "Salt must not be empty"] };
  if (u.saltedPassword.length === 0) return { error: [AuthError.UNACCEPTABLE_CREDENTIAL, "Salted password must not be empty"] };
  return { params };
}

/** Applies the valid changes to the store (in memory; the caller persists) and returns one result per user. */
export function applyCredentialChanges(store: CredentialStore, deletions: readonly Deletion[], upsertions: readonly Upsertion[]): UserResult[] {
  const ops: Op[] = [...deletions.map((d): Op => ({ kind: "delete", d })), ...upsertions.map((u): Op => ({ kind: "upsert", u }))];
  const errors = new Map<string, [number, string]>();
  const seen = new Set<string>();
  const users: string[] = [];
  for (const op of ops) {
    const name = op.kind === "delete" ? op.d.name : op.u.name;
    if (!users.includes(name)) users.push(name);
    const key = `${name}\u0000${op.kind === "delete" ? op.d.mechanism : op.u.mechanism}`;
    if (seen.has(key) && !errors.has(name)) errors.set(name, [AuthError.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request"]);
    seen.add(key);
    const verdict = check(store, op);
    if ("error" in verdict && !errors.has(name)) errors.set(name, verdict.error);
  }
  for (const op of ops) {
    const name = op.kind === "delete" ? op.d.name : op.u.name;
    if (errors.has(name)) continue;
    const params = scramById(op.kind === "delete" ? op.d.mechanism : op.u.mechanism)!;
    if (op.kind === "delete") store.remove(name, params.name);
    else {
      const keys = keysFromSaltedPassword(params, op.u.saltedPassword);
      const cred: ScramCredential = { salt: new Uint8Array(op.u.salt), iterations: op.u.iterations, ...keys };
      store.put(name, params.name, cred);
    }
  }
  return users.map((user) => {
    const err = errors.get(user);
    return err ? { user, errorCode: err[0], errorMessage: err[1] } : { user, errorCode: AuthError.NONE, errorMessage: null };
  });
}
