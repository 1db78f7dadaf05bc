/** The domain model of an Athena for Apache Spark session, free of SDK shapes. */

export const SESSION_STATES = ["CREATING", "CREATED", "IDLE", "BUSY", "TERMINATING", "TERMINATED", "DEGRADED", "FAILED"] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export function isSessionState(value: string): value is SessionState {
  return (SESSION_STATES as readonly string[]).includes(value);
}

/** A session in these states has ended: Athena bills it no more, and it never changes again. */
export function isSessionEnded(state: SessionState): boolean {
  return state === "TERMINATED" || state === "FAILED";
}

export interface Session {
  readonly id: string;
  readonly workgroup: string;
  readonly description: string;
  readonly engineVersion: string;
  readonly state: SessionState;
  readonly stateChangeReason: string;
  /** Unix seconds. */
  readonly startedAt: number | undefined;
  readonly lastModifiedAt: number | undefined;
  /** Set once the session has ended. */
  readonly endedAt: number | undefined;
  /** Set while the session is IDLE. */
  readonly idleSince: number | undefined;
  /** DpuExecutionInMillis / 1000: what Athena bills, busy or idle. */
  readonly dpuExecutionSeconds: number | undefined;
  readonly coordinatorDpuSize: number | undefined;
  readonly defaultExecutorDpuSize: number | undefined;
  readonly maxConcurrentDpus: number | undefined;
  readonly idleTimeoutSeconds: number | undefined;
  /** SessionConfiguration.ExecutionRole: the IAM role ARN the session's Spark code runs as, "" when Athena gives none. */
  readonly executionRole: string;
  /** NotebookVersion, such as "Athena notebook version 1"; "" when Athena gives none. */
  readonly notebookVersion: string;
}

/** An ended session whose DPU figure is in never changes again, so it is never fetched again. */
export function isSessionSettled(session: Session): boolean {
  return isSessionEnded(session.state) && session.dpuExecutionSeconds !== undefined;
}

/** What a workgroup's engine allows: Spark sessions, and calculations only on the PySpark engine. */
export interface WorkgroupEngine {
  readonly sessions: boolean;
  readonly calculations: boolean;
}

// "PySpark engine version 3" serves calculations; "Apache Spark version 3.5" (Spark Connect) only
// sessions; SQL workgroups ("Athena engine version 3") neither.
export function engineOf(engineVersion: string): WorkgroupEngine {
  const spark = /spark/i.test(engineVersion);
  return { sessions: spark, calculations: spark && /^pyspark engine version/i.test(engineVersion.trim()) };
}

/** What ListSessions tells of a session. */
export interface SessionSummary {
  readonly id: string;
  readonly workgroup: string;
  readonly state: string;
  /** Unix seconds; Athena lists the newest sessions first, by this. */
  readonly startedAt: number | undefined;
  /** Unix seconds; set once the session has ended. */
  readonly endedAt: number | undefined;
}

export interface WorkGroupSummary {
  readonly name: string;
  readonly enabled: boolean;
  /** ENABLED or DISABLED, as Athena says. */
  readonly state: string;
  /** The configured tag keys' values (discovery.workgroupTags), when read. */
  readonly tags?: ReadonlyMap<string, string>;
  /** Athena's engine, such as "PySpark engine version 3" or "Athena engine version 3". */
  readonly engine: string;
}

/** A listed state (any text Athena sends) that says the session has ended. */
export function isSessionClosed(state: string): boolean {
  return isSessionState(state) && isSessionEnded(state);
}
