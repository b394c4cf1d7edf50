/**
 * The shape of a per-API tenant translation: rewrite the decoded request in place (client names ->
 * internal names) and return what to do with the response (internal -> client names, foreign entries
 * dropped), or null when the response needs nothing.
 */
import type { RequestContext } from "../handlers/handler.ts";
import type { TenantContext } from "./tenant-context.ts";

export type ResponseFix = (res: unknown) => void;

/** `req: never` so every typed translator fits the table; dispatch knows the key matches the type. */
export type Translator = (t: TenantContext, req: never, version: number, ctx: RequestContext) => ResponseFix | null;
