/** The domain model of a Spark executor of an Athena session, as ListExecutors tells of it, free of SDK shapes. */

export const EXECUTOR_TYPES = ["COORDINATOR", "GATEWAY", "WORKER"] as const;
export type ExecutorType = (typeof EXECUTOR_TYPES)[number];

export const EXECUTOR_STATES = ["CREATING", "CREATED", "REGISTERED", "TERMINATING", "TERMINATED", "FAILED"] as const;
export type ExecutorState = (typeof EXECUTOR_STATES)[number];

export const isExecutorType = (value: string): value is ExecutorType => (EXECUTOR_TYPES as readonly string[]).includes(value);
export const isExecutorState = (value: string): value is ExecutorState => (EXECUTOR_STATES as readonly string[]).includes(value);

/** An executor in these states has ended: it holds no DPUs and never changes again. */
export function isExecutorEnded(state: ExecutorState): boolean {
  return state === "TERMINATED" || state === "FAILED";
}

export interface Executor {
  readonly id: string;
  readonly type: ExecutorType;
  readonly state: ExecutorState;
  /** DPUs it holds while it runs. */
  readonly size: number;
  /** Unix seconds; Athena lists the newest first, by this. */
  readonly startedAt: number;
  /** Unix seconds; set once it has ended. */
  readonly endedAt: number | undefined;
}
