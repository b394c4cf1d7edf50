/**
 * SCRAM credentials per user and mechanism: salt, StoredKey, ServerKey and iteration count, never a
 * password. Kept in `<data dir>/bunka-scram-credentials.msgpack`, next to the broker's metadata file
 * and written the same crash-safe way (temp file, fsync, rename, fsync dir). The broker reads it at
 * startup and rewrites it after AlterUserScramCredentials; `bun run users` edits it offline.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { writeFileAtomic, writeFileAtomicSync } from "../log/atomic-file.ts";
import { isScramMechanism, type ScramMechanismName } from "./mechanisms.ts";

export const CREDENTIALS_FILE = "bunka-scram-credentials.msgpack";

export interface ScramCredential {
  salt: Uint8Array;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
  iterations: number;
}

interface StoredCredentials {
  version: 1;
  users: Record<string, Partial<Record<ScramMechanismName, ScramCredential>>>;
}

export class CredentialStore {
  private readonly users = new Map<string, Map<ScramMechanismName, ScramCredential>>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly path: string) {}

  /** Opens (or starts empty) the credential file of a data directory. */
  static open(dataDir: string): CredentialStore {
    const store = new CredentialStore(join(dataDir, CREDENTIALS_FILE));
    if (!existsSync(store.path)) return store;
    const state = unpack(readFileSync(store.path)) as StoredCredentials;
    if (state?.version !== 1) throw new Error(`${store.path}: unknown credentials version ${String(state?.version)}`);
    for (const [user, byMech] of Object.entries(state.users)) {
      for (const [mech, cred] of Object.entries(byMech)) {
        if (!isScramMechanism(mech) || !cred) continue;
        store.put(user, mech, {
          salt: new Uint8Array(cred.salt),
          storedKey: new Uint8Array(cred.storedKey),
          serverKey: new Uint8Array(cred.serverKey),
          iterations: cred.iterations,
        });
      }
    }
    return store;
  }

  get(user: string, mechanism: ScramMechanismName): ScramCredential | undefined {
    return this.users.get(user)?.get(mechanism);
  }

  /** Every mechanism the user has a credential for. */
  mechanismsOf(user: string): ScramMechanismName[] {
    return [...(this.users.get(user)?.keys() ?? [])];
  }

  userNames(): string[] {
    return [...this.users.keys()].sort();
  }

  put(user: string, mechanism: ScramMechanismName, cred: ScramCredential): void {
    let byMech = this.users.get(user);
    if (!byMech) this.users.set(user, (byMech = new Map()));
    byMech.set(mechanism, cred);
  }

  /** Removes one credential; false when there was none. */
  remove(user: string, mechanism: ScramMechanismName): boolean {
    const byMech = this.users.get(user);
    if (!byMech?.delete(mechanism)) return false;
    if (byMech.size === 0) this.users.delete(user);
    return true;
  }

  private encode(): Uint8Array {
    const users: StoredCredentials["users"] = {};
    for (const [user, byMech] of this.users) users[user] = Object.fromEntries(byMech);
    const state: StoredCredentials = { version: 1, users };
    return pack(state);
  }

  /** Persists the current state; concurrent calls are chained so the last write holds the newest state. */
  save(): Promise<void> {
    const next = this.writing.then(() => writeFileAtomic(this.path, this.encode()));
    this.writing = next.catch(() => undefined);
    return next;
  }

  saveSync(): void {
    writeFileAtomicSync(this.path, this.encode());
  }
}
