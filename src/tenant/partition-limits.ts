/**
 * A tenant's partition limits: the number of partitions over all its topics (units x
 * bunka.tenant.unit.partitions, refused with POLICY_VIOLATION) and the rate at which it creates
 * them (KIP-599 controller_mutation_rate, units x bunka.tenant.unit.controller.mutation.rate).
 *
 * The rate check is KIP-599's: a request is accepted while the tenant's measured rate is within its
 * quota, and then counts in full (so one request may overshoot); once over, creations are refused
 * with THROTTLING_QUOTA_EXCEEDED and throttle_time_ms says when the rate is back under the quota.
 */
import { ErrorCode } from "../protocol/error-codes.ts";
import { throttleTimeMs } from "../quota/sampled-rate.ts";
import type { TenantContext } from "./tenant-context.ts";

export interface Refusal {
  errorCode: number;
  message: string;
  throttleMs: number;
}

/** Checks creating `wanted` more partitions now; null when allowed. `pending` counts partitions already granted in this request. */
export function checkPartitionCreation(t: TenantContext, wanted: number, pending: number, nowMs: number): Refusal | null {
  const limit = t.limits.partitions;
  const current = t.ns.partitionCount() + pending;
  if (current + wanted > limit) {
    return {
      errorCode: ErrorCode.POLICY_VIOLATION,
      message: `Tenant ${t.tenant.name} has ${current} partitions; ${wanted} more would exceed its limit of ${limit} ` +
        `(${t.tenant.units} units x ${t.unit.partitions} partitions).`,
      throttleMs: 0,
    };
  }
  const rate = t.mutationRate;
  const throttle = throttleTimeMs(rate, t.limits.mutationsPerSec, nowMs, rate.numWindows * rate.windowMs);
  if (throttle > 0) {
    return {
      errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED,
      message: `The tenant's partition creation rate is above its quota of ${t.limits.mutationsPerSec} partitions/s; retry in ${throttle} ms.`,
      throttleMs: throttle,
    };
  }
  return null;
}

export function recordPartitionCreation(t: TenantContext, n: number, nowMs: number): void {
  if (n > 0) t.mutationRate.record(n, nowMs);
}
