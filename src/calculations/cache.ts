import type { AthenaApi } from "../athena/client.js";
import type { ApiError } from "../athena/errors.js";
import { RefreshingCache, type CacheOptions, type Held } from "../refreshing-cache.js";
import { err, ok, type Result } from "../result.js";
import { isSettled, type Calculation, type CalculationState } from "../athena/calculation.js";

/** What the exporter holds of one calculation: Athena's answer, and the workgroup of its session. */
export interface HeldCalculation {
  /** Dropped once settled, unless FAILED: the exposition keeps its text. */
  readonly calculation: Calculation | undefined;
  readonly state: CalculationState;
  readonly workgroup: string;
}

export type CalculationEntry = Held<HeldCalculation>;
export type CalculationCache = RefreshingCache<HeldCalculation>;

/**
 * A session's workgroup, which never changes: looked up in discovery's
 * listing or the session cache (workgroup-directory.ts; one GetSession per
 * session, shared by all its calculations), so this cache keeps no copy.
 */
export type WorkgroupLookup = (sessionId: string, signal: AbortSignal) => Promise<Result<string, ApiError>>;

/** The calculations a target watches, fetched with GetCalculationExecution; a settled one is never fetched again. */
export function calculationCache(api: AthenaApi, lookupWorkgroup: WorkgroupLookup, options: CacheOptions): CalculationCache {
  return new RefreshingCache<HeldCalculation>(
    {
      logKey: "calculation_execution_id",
      noun: "calculation",
      async fetch(id, stale, signal) {
        const answer = await api.getCalculation(id, signal);
        if (!answer.ok) return answer;
        const calculation = answer.value;
        let workgroup = stale?.value?.workgroup;
        if (workgroup === undefined) {
          const found = await lookupWorkgroup(calculation.sessionId, signal);
          if (!found.ok) return err(found.error);
          workgroup = found.value;
        }
        return ok({ calculation, state: calculation.state, workgroup });
      },
      isSettled: (held) => held.calculation !== undefined && isSettled(held.calculation),
      // A failed one keeps its answer: the status page names the latest failures with their reason.
      keepSettled: (held) => (held.state === "FAILED" ? held : { calculation: undefined, state: held.state, workgroup: held.workgroup }),
    },
    options,
  );
}
