/**
 * Parsing of the SCRAM client messages of RFC 5802 section 7 (the server side needs only these two):
 *   client-first-message = gs2-header client-first-message-bare
 *     gs2-header = ("n" / "y" / "p=" cb-name) "," [ "a=" saslname ] ","
 *     client-first-message-bare = [reserved-mext ","] "n=" saslname "," "r=" c-nonce ["," extensions]
 *   client-final-message = "c=" base64(gs2-header [cbind-data]) "," "r=" nonce ["," extensions] "," "p=" base64(proof)
 * Kafka sends its own extensions (KIP-342) after the nonce as key=value attributes.
 */
import { SaslFailure } from "./errors.ts";

export interface ClientFirst {
  gs2Header: string;
  authzid: string | null;
  userName: string;
  clientNonce: string;
  bare: string;
  extensions: Map<string, string>;
}

export interface ClientFinal {
  channelBinding: string;
  nonce: string;
  proof: Uint8Array;
  withoutProof: string;
}

const invalid = (what: string) => new SaslFailure(`Invalid SCRAM client message: ${what}`, false);

/** RFC 5802 saslname: "=2C" stands for "," and "=3D" for "="; any other "=" is malformed. */
export function decodeSaslName(s: string): string {
  if (/=(?!2C|3D)/.test(s)) throw invalid("bad escape in name");
  return s.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

export function encodeSaslName(s: string): string {
  return s.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function attributes(parts: readonly string[]): [string, string][] {
  return parts.map((p) => {
    const eq = p.indexOf("=");
    if (eq < 1) throw invalid(`attribute "${p}"`);
    return [p.slice(0, eq), p.slice(eq + 1)];
  });
}

export function parseClientFirst(text: string): ClientFirst {
  const firstComma = text.indexOf(",");
  const secondComma = firstComma < 0 ? -1 : text.indexOf(",", firstComma + 1);
  if (secondComma < 0) throw invalid("no GS2 header");
  const cbind = text.slice(0, firstComma);
  if (cbind.startsWith("p=")) throw new SaslFailure("Channel binding is not supported", false);
  if (cbind !== "n" && cbind !== "y") throw invalid("bad channel-binding flag");
  const authzPart = text.slice(firstComma + 1, secondComma);
  if (authzPart !== "" && !authzPart.startsWith("a=")) throw invalid("bad authzid");
  const authzid = authzPart === "" ? null : decodeSaslName(authzPart.slice(2));
  const bare = text.slice(secondComma + 1);
  const attrs = attributes(bare.split(","));
  if (attrs[0]?.[0] === "m") throw invalid("mandatory extensions are not supported");
  if (attrs[0]?.[0] !== "n" || attrs[1]?.[0] !== "r") throw invalid("expected n= and r=");
  const userName = decodeSaslName(attrs[0][1]);
  const clientNonce = attrs[1][1];
  if (userName === "" || clientNonce === "") throw invalid("empty name or nonce");
  return { gs2Header: text.slice(0, secondComma + 1), authzid, userName, clientNonce, bare, extensions: new Map(attrs.slice(2)) };
}

export function parseClientFinal(text: string): ClientFinal {
  const proofAt = text.lastIndexOf(",p=");
  if (proofAt < 0) throw invalid("no proof");
  const withoutProof = text.slice(0, proofAt);
  const attrs = attributes(withoutProof.split(","));
  if (attrs[0]?.[0] !== "c" || attrs[1]?.[0] !== "r") throw invalid("expected c= and r=");
  const proofText = text.slice(proofAt + 3);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(proofText)) throw invalid("proof is not base64");
  return { channelBinding: attrs[0][1], nonce: attrs[1][1], proof: new Uint8Array(Buffer.from(proofText, "base64")), withoutProof };
}
