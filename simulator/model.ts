import { randomUUID } from "node:crypto";
import type { CalculationState } from "../src/athena/calculation.js";

/** The Athena operations the simulator serves. */
export const OPERATIONS = [
  "GetCalculationExecution",
  "GetCalculationExecutionStatus",
  "GetSession",
  "GetSessionStatus",
  "ListSessions",
  "ListCalculationExecutions",
  "GetWorkGroup",
  "ListWorkGroups",
  "ListTagsForResource",
  "ListExecutors",
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

/** Athena's engine for Spark workgroups that run calculations and notebooks. */
export const PYSPARK_ENGINE = "PySpark engine version 3";
/** Athena's newer Spark engine: sessions (Spark Connect) only; the Notebooks and Calculations APIs refuse its sessions. */
export const SPARK_35_ENGINE = "Apache Spark version 3.5";
/** Athena's SQL engine: query executions, no sessions or calculations. */
export const SQL_ENGINE = "Athena engine version 3";

/** Whether the Notebooks and Calculations APIs serve sessions on this engine (AWS: not on Apache Spark version 3.5). */
export function supportsCalculations(engine: string): boolean {
  return engine !== SPARK_35_ENGINE;
}

/** A session's states, as Athena's SessionState enum lists them. */
export const SESSION_STATES = ["CREATING", "CREATED", "IDLE", "BUSY", "TERMINATING", "TERMINATED", "DEGRADED", "FAILED"] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export function isSessionState(value: unknown): value is SessionState {
  return typeof value === "string" && (SESSION_STATES as readonly string[]).includes(value);
}

/** The states ListSessions lists when no StateFilter is given. */
export const ACTIVE_SESSION_STATES: readonly SessionState[] = ["CREATING", "CREATED", "IDLE", "BUSY"];

/** A session that has ended: it accrues no more DPU time and has an EndDateTime. */
export function isSessionEnded(state: SessionState): boolean {
  return state === "TERMINATED" || state === "FAILED";
}

export interface SimSession {
  readonly id: string;
  readonly workGroup: string;
  /** Its workgroup's engine when it started. */
  readonly engineVersion: string;
  description: string;
  state: SessionState;
  stateChangeReason: string;
  startedAtMs: number;
  endedAtMs: number | undefined;
  /** When it last entered IDLE; undefined while it is in another state. */
  idleSinceMs: number | undefined;
  lastModifiedMs: number;
  coordinatorDpuSize: number;
  defaultExecutorDpuSize: number;
  maxConcurrentDpus: number;
  /** SessionConfiguration.IdleTimeoutSeconds. */
  idleTimeoutSeconds: number;
  /** SessionConfiguration.SessionIdleTimeoutInMinutes (what StartSession sets); left out of the answer when undefined. */
  idleTimeoutMinutes: number | undefined;
  notebookVersion: string;
  /** SessionConfiguration.ExecutionRole. */
  executionRole: string;
  workingDirectory: string;
  additionalConfigs: Record<string, string>;
  /** Executors kept busy while the session is BUSY outside any calculation (a Spark 3.5 session's Spark Connect work). */
  busyExecutors: number;
  /** Set explicitly; otherwise derived, see AthenaState. */
  dpuExecutionMillis: number | undefined;
  /** DPU milliseconds of coordinator and busy executors accrued up to `accruedToMs`. */
  accruedDpuMillis: number;
  accruedToMs: number;
  /** Whether it had a RUNNING calculation when last looked at. */
  hadRunningCalculation: boolean;
}

export interface NewSession {
  id?: string;
  description?: string;
  /** IDLE when absent. */
  state?: SessionState;
  stateChangeReason?: string;
  /** Now when absent. */
  startedAtMs?: number;
  /** For a TERMINATED or FAILED session; now when absent. */
  endedAtMs?: number;
  /** For an IDLE session; its start when absent. */
  idleSinceMs?: number;
  /** When its state last changed; the latest of its start, idle-since and end when absent. */
  lastModifiedMs?: number;
  coordinatorDpuSize?: number;
  defaultExecutorDpuSize?: number;
  maxConcurrentDpus?: number;
  idleTimeoutSeconds?: number;
  idleTimeoutMinutes?: number;
  notebookVersion?: string;
  executionRole?: string;
  workingDirectory?: string;
  additionalConfigs?: Record<string, string>;
  busyExecutors?: number;
  dpuExecutionMillis?: number;
}

export interface SimWorkGroup {
  readonly name: string;
  /** PYSPARK_ENGINE or SPARK_35_ENGINE for Spark workgroups, SQL_ENGINE for SQL ones. */
  engine: string;
  state: "ENABLED" | "DISABLED";
  description: string;
  createdAtMs: number;
  /** Its tags, as ListTagsForResource lists them. */
  readonly tags: Map<string, string>;
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
