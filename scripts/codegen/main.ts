/**
 * Kafka protocol codec generator.
 *
 *   bun scripts/codegen/main.ts <schemaDir> <outDir>
 *
 * Generates one module per request/response message, the two headers and the
 * consumer-protocol data messages, plus index.ts with API_SCHEMAS.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HEADER_LINE, generateMessage } from "./emit.ts";
import { type MessageSpec, kebab, parseRange, parseSchema } from "./schema.ts";

/** "data" messages that are generated anyway (consumer group embedded protocols). */
const EXTRA_DATA = new Set(["ConsumerProtocolSubscription", "ConsumerProtocolAssignment"]);

export interface GeneratedFile {
  fileName: string;
  source: string;
}

export function shouldGenerate(fileName: string, spec: MessageSpec): boolean {
  if (spec.type === "request" && fileName.endsWith("Request.json")) return true;
  if (spec.type === "response" && fileName.endsWith("Response.json")) return true;
  if (spec.type === "header") return true;
  if (spec.type === "data" && EXTRA_DATA.has(spec.name)) return true;
  return false;
}

/** Generate every output file (in memory) from the schemas in `schemaDir`. */
export function generateAll(schemaDir: string): GeneratedFile[] {
  const files = readdirSync(schemaDir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  const out: GeneratedFile[] = [];
  const requests: MessageSpec[] = [];
  for (const f of files) {
    const spec = parseSchema(readFileSync(join(schemaDir, f), "utf8"));
    if (!shouldGenerate(f, spec)) continue;
    try {
      out.push(generateMessage(spec, kebab(spec.name)));
    } catch (e) {
      throw new Error(`${f}: ${(e as Error).message}`);
    }
    if (spec.type === "request") requests.push(spec);
  }
  out.push({ fileName: "index.ts", source: indexSource(requests) });
  return out;
}

function indexSource(requests: MessageSpec[]): string {
  const rows = requests
    .filter((r) => r.apiKey !== undefined)
    .sort((a, b) => a.apiKey! - b.apiKey!)
    .map((r) => {
      const v = parseRange(r.validVersions)!;
      const fr = parseRange(r.flexibleVersions);
      const name = r.name.replace(/Request$/, "");
      return `  ${r.apiKey}: { name: ${JSON.stringify(name)}, minVersion: ${v[0]}, maxVersion: ${v[1]}, flexibleMin: ${fr === null ? 99 : fr[0]} },`;
    });
  return [
    HEADER_LINE,
    "",
    "export interface ApiSchemaInfo {",
    "  /** API name as in Kafka's ApiKeys, e.g. \"Produce\", \"ApiVersions\". */",
    "  name: string;",
    "  minVersion: number;",
    "  maxVersion: number;",
    "  /** First flexible version; 99 = never flexible. */",
    "  flexibleMin: number;",
    "}",
    "",
    "/** Every request API in the schemas (all listeners), by api key. */",
    "export const API_SCHEMAS: Record<number, ApiSchemaInfo> = {",
    ...rows,
    "};",
    "",
  ].join("\n");
}

if (import.meta.main) {
  const [schemaDir, outDir] = process.argv.slice(2);
  if (schemaDir === undefined || outDir === undefined) {
    console.error("usage: bun scripts/codegen/main.ts <schemaDir> <outDir>");
    process.exit(2);
  }
  const files = generateAll(schemaDir);
  mkdirSync(outDir, { recursive: true });
  for (const f of files) writeFileSync(join(outDir, f.fileName), f.source);
  console.log(`codegen: wrote ${files.length} files to ${outDir}`);
}
