import type { AthenaSimulator } from "../simulator/server.js";

/** The share of tracked calculations left RUNNING, as the measurements assume (95% finished). */
export const UNFINISHED_SHARE = 0.05;
/** Calculations per session, and the number of workgroups the sessions spread over. */
export const CALCULATIONS_PER_SESSION = 100;
export const WORKGROUPS = 4;

/**
 * Fills the simulator with `n` calculations the way the bench measures them:
 * one session per 100 calculations over four workgroups, one in twenty
 * RUNNING, the rest COMPLETED, FAILED (with a reason) or CANCELED. Shared by
 * the bench and the scale test so both measure the same body.
 */
export function populate(sim: AthenaSimulator, n: number): string[] {
  const ids: string[] = [];
  let session = "";
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    if (i % CALCULATIONS_PER_SESSION === 0) session = sim.state.addSession(`spark-wg-${(i / CALCULATIONS_PER_SESSION) % WORKGROUPS}`).id;
    const unfinished = i % Math.round(1 / UNFINISHED_SHARE) === 0;
    const finalState = i % 10 === 1 ? "FAILED" : i % 10 === 2 ? "CANCELED" : "COMPLETED";
    ids.push(
      sim.state.addCalculation({
        sessionId: session,
        description: `nightly job ${i % 50}`,
        state: unfinished ? "RUNNING" : finalState,
        stateChangeReason: finalState === "FAILED" && !unfinished ? "AnalysisException: Table or view not found" : "",
        submittedAtMs: now - 3_600_000,
        ...(unfinished ? {} : { completedAtMs: now - 600_000, dpuExecutionMillis: 1000 + i }),
      }).id,
    );
  }
  return ids;
}
