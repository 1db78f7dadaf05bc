import { randomUUID } from "node:crypto";
import type { CalculationState } from "../src/calculations/calculation.js";

/** The Athena operations the simulator serves. */
export const OPERATIONS = [
  "GetCalculationExecution",
  "GetCalculationExecutionStatus",
  "GetSession",
  "ListSessions",
  "ListCalculationExecutions",
  "ListWorkGroups",
] as const;
export type Operation = (typeof OPERATIONS)[number];

export function isOperation(name: string): name is Operation {
  return (OPERATIONS as readonly string[]).includes(name);
}

/** One step of a calculation's scripted life: at `atMs` (epoch ms) it enters `state`. */
export interface ScheduledState {
  readonly atMs: number;
  readonly state: CalculationState;
  readonly reason?: string;
}

export interface SimCalculation {
  readonly id: string;
  readonly sessionId: string;
  description: string;
  workingDirectory: string;
  submittedAtMs: number;
  completedAtMs: number | undefined;
  state: CalculationState;
  stateChangeReason: string;
  /** Set explicitly; otherwise derived from the time spent RUNNING times `dpus`. */
  dpuExecutionMillis: number | undefined;
  runningSinceMs: number | undefined;
  runningMillis: number;
  dpus: number;
  /** When false, the answer leaves out `Statistics`, as Athena does before a calculation runs. */
  statistics: boolean;
  progress: string;
  resultType: string;
  schedule: ScheduledState[];
}

export interface SimSession {
  readonly id: string;
  readonly workGroup: string;
  description: string;
  state: string;
  startedAtMs: number;
  endedAtMs: number | undefined;
}

export interface SimWorkGroup {
  readonly name: string;
  /** "PySpark engine version 3" for Spark workgroups, "Athena engine version 3" for SQL ones. */
  engine: string;
  state: "ENABLED" | "DISABLED";
  description: string;
  createdAtMs: number;
}

export interface NewCalculation {
  id?: string;
  sessionId: string;
  description?: string;
  workingDirectory?: string;
  state?: CalculationState;
  stateChangeReason?: string;
  submittedAtMs?: number;
  completedAtMs?: number;
  dpuExecutionMillis?: number;
  dpus?: number;
  statistics?: boolean;
  progress?: string;
  resultType?: string;
  schedule?: ScheduledState[];
}

export function newId(): string {
  return randomUUID();
}
