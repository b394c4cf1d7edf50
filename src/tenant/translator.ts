/**
 * The shape of a per-API tenant translation: rewrite the decoded request in place (client names ->
 * internal names) and return what to do with the response (internal -> client names, foreign entries
 * dropped), or null when the response needs nothing.
 */
import type { RequestContext } from "../handlers/handler.ts";
import type { TenantContext } from "./tenant-context.ts";

export type ResponseFix = (res: unknown) => void;

export type Translator = (t: TenantContext, req: any, version: number, ctx: RequestContext) => ResponseFix | null;
