/** The domain model of a calculation execution, free of SDK shapes. */

export const CALCULATION_STATES = ["CREATING", "CREATED", "QUEUED", "RUNNING", "CANCELING", "CANCELED", "COMPLETED", "FAILED"] as const;

export type CalculationState = (typeof CALCULATION_STATES)[number];

export const FINISHED_STATES = ["COMPLETED", "FAILED", "CANCELED"] as const;
export type FinishedState = (typeof FINISHED_STATES)[number];

export function isCalculationState(value: string): value is CalculationState {
  return (CALCULATION_STATES as readonly string[]).includes(value);
}

/** True for the states Athena never leaves: such an execution never changes again. */
export function isFinished(state: CalculationState): state is FinishedState {
  switch (state) {
    case "COMPLETED":
    case "FAILED":
    case "CANCELED":
      return true;
    case "CREATING":
    case "CREATED":
    case "QUEUED":
    case "RUNNING":
    case "CANCELING":
      return false;
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}

export interface Calculation {
  readonly id: string;
  readonly sessionId: string;
  readonly description: string;
  readonly workingDirectory: string;
  readonly state: CalculationState;
  readonly stateChangeReason: string;
  /** Unix seconds. */
  readonly submittedAt: number | undefined;
  /** Unix seconds; set once the execution has finished. */
  readonly completedAt: number | undefined;
  /** DpuExecutionInMillis / 1000; undefined when Athena gives no statistics. */
  readonly dpuExecutionSeconds: number | undefined;
  readonly progress: string;
  readonly result: {
    /** An S3 URI (s3://, S3:// or https://) of bounded length, or "" when Athena gives none or an invalid one (see parse.ts). */
    readonly stdOutS3Uri: string;
    readonly stdErrorS3Uri: string;
    readonly resultS3Uri: string;
    readonly resultType: string;
  };
}

/**
 * A finished execution whose statistics are in will never change, so it is
 * never fetched again. Athena can report a final state a moment before the
 * DPU figure lands; such an answer is refreshed until it has one.
 */
export function isSettled(calc: Calculation): boolean {
  return isFinished(calc.state) && calc.dpuExecutionSeconds !== undefined;
}

// Athena issues calculation execution and session IDs as UUIDs.
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What ListCalculationExecutions tells of a calculation, without statistics. */
export interface CalculationSummary {
  readonly id: string;
  readonly sessionId: string;
  readonly state: CalculationState;
  /** Unix seconds. */
  readonly submittedAt: number | undefined;
  /** Unix seconds. */
  readonly completedAt: number | undefined;
}
