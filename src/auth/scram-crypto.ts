/**
 * The SCRAM key derivation of RFC 5802 section 3:
 *   SaltedPassword = Hi(password, salt, i)            (PBKDF2 with HMAC-H)
 *   ClientKey = HMAC(SaltedPassword, "Client Key")    StoredKey = H(ClientKey)
 *   ServerKey = HMAC(SaltedPassword, "Server Key")
 * Only StoredKey and ServerKey (with salt and iterations) are ever stored.
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import type { ScramParams } from "./mechanisms.ts";

export interface ScramKeys {
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

export function hmac(p: ScramParams, key: Uint8Array, data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHmac(p.hash, key).update(data).digest());
}

export function digest(p: ScramParams, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(p.hash).update(data).digest());
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error("xor of unequal lengths");
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function saltedPasswordSync(p: ScramParams, password: string, salt: Uint8Array, iterations: number): Uint8Array {
  return new Uint8Array(pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, p.keyLength, p.hash));
}

/** PBKDF2 on libuv's thread pool, so a PLAIN login does not stall the event loop. */
export function saltedPassword(p: ScramParams, password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    pbkdf2(Buffer.from(password, "utf8"), salt, iterations, p.keyLength, p.hash, (err, key) => (err ? reject(err) : resolve(new Uint8Array(key)))),
  );
}

export function clientKeyOf(p: ScramParams, salted: Uint8Array): Uint8Array {
  return hmac(p, salted, "Client Key");
}

export function keysFromSaltedPassword(p: ScramParams, salted: Uint8Array): ScramKeys {
  return { storedKey: digest(p, clientKeyOf(p, salted)), serverKey: hmac(p, salted, "Server Key") };
}

export function randomSalt(bytes = 32): Uint8Array {
  return new Uint8Array(randomBytes(bytes));
}
