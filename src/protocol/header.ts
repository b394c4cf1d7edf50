/**
 * Which request/response header version goes with an API version.
 *
 * Request header: v2 for flexible API versions, v1 otherwise (v0 only for
 * ControlledShutdown v0). Response header: v1 for flexible API versions, v0
 * otherwise — except ApiVersions, whose response header is always v0 so that a
 * client can parse it before knowing which versions the broker supports.
 */
import { API_SCHEMAS } from "./generated/index.ts";

const API_VERSIONS_KEY = 18;
const CONTROLLED_SHUTDOWN_KEY = 7;

function isFlexible(apiKey: number, apiVersion: number): boolean {
  const s = API_SCHEMAS[apiKey];
  return s !== undefined && apiVersion >= s.flexibleMin;
}

export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === CONTROLLED_SHUTDOWN_KEY && apiVersion === 0) return 0;
  return isFlexible(apiKey, apiVersion) ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === API_VERSIONS_KEY) return 0;
  return isFlexible(apiKey, apiVersion) ? 1 : 0;
}
