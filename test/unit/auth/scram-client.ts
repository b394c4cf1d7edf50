/** A SCRAM client for tests (RFC 5802 client side), independent of the server's message parser. */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

export class TestScramClient {
  readonly clientNonce: string;
  private clientFirstBare = "";
  private serverSignature = "";

  constructor(
    private readonly hash: "sha256" | "sha512",
    private readonly user: string,
    private readonly password: string,
    clientNonce?: string,
  ) {
    this.clientNonce = clientNonce ?? randomBytes(18).toString("base64");
  }

  first(): string {
    this.clientFirstBare = `n=${this.user.replace(/=/g, "=3D").replace(/,/g, "=2C")},r=${this.clientNonce}`;
    return `n,,${this.clientFirstBare}`;
  }

  final(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(",").map((p) => [p[0]!, p.slice(2)]));
    const nonce = attrs.get("r")!;
    if (!nonce.startsWith(this.clientNonce)) throw new Error("server nonce does not extend ours");
    const len = this.hash === "sha256" ? 32 : 64;
    const salted = pbkdf2Sync(this.password, Buffer.from(attrs.get("s")!, "base64"), Number(attrs.get("i")), len, this.hash);
    const clientKey = createHmac(this.hash, salted).update("Client Key").digest();
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac(this.hash, storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(len);
    for (let i = 0; i < len; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    const serverKey = createHmac(this.hash, salted).update("Server Key").digest();
    this.serverSignature = createHmac(this.hash, serverKey).update(authMessage).digest("base64");
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  verifyServerFinal(serverFinal: string): boolean {
    return serverFinal === `v=${this.serverSignature}`;
  }
}
