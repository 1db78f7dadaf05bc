import type { CalculationState } from "../src/athena/calculation.js";
import type { AthenaState } from "./athena-state.js";
import { SPARK_35_ENGINE, type ScheduledState, type SessionState } from "./model.js";

/** The demo's Spark 3.5 workgroup: sessions only, no calculations. */
export const DEMO_SPARK_35_WORKGROUP = "interactive-spark35";

/** Tags on the demo's workgroups, as ListTagsForResource lists them. */
export const DEMO_TAGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "analytics-spark": { team: "analytics", "cost-center": "CC-1001" },
  "etl-spark": { team: "data-platform", "cost-center": "CC-2002" },
  [DEMO_SPARK_35_WORKGROUP]: { team: "ml-research", "cost-center": "CC-3003" },
};

interface DemoSession {
  readonly id: string;
  readonly workGroup: string;
  readonly description: string;
  readonly state: SessionState;
  readonly reason?: string;
  /** Seconds before the simulator's start at which it started. */
  readonly startedAgo: number;
  /** Seconds before the simulator's start at which it entered its state; its start when absent. */
  readonly sinceAgo?: number;
  /** Executors a BUSY session keeps busy outside calculations. */
  readonly busyExecutors?: number;
  /** SessionIdleTimeoutInMinutes it was started with; the simulator's default (20 minutes) when absent. */
  readonly idleTimeoutMinutes?: number;
}

/**
 * Sessions in every state a dashboard should show, besides those running the
 * demo's calculations (which turn BUSY while one of theirs runs): one idle for
 * long, one busy, a degraded one, a failed one, one terminated a moment ago,
 * and two on Apache Spark version 3.5.
 */
export const DEMO_OTHER_SESSIONS: readonly DemoSession[] = [
  {
    id: "5b1c3d4e-0004-4a6b-8c9d-0e1f2a3b4c04",
    workGroup: "analytics-spark",
    description: "forgotten exploration notebook",
    state: "IDLE",
    // The 480-minute maximum: it bills for hours yet unless someone ends it, so it pages.
    idleTimeoutMinutes: 480,
    startedAgo: 3600,
    sinceAgo: 2700,
  },
  {
    id: "5b1c3d4e-0005-4a6b-8c9d-0e1f2a3b4c05",
    workGroup: "analytics-spark",
    description: "dashboard refresh",
    state: "BUSY",
    startedAgo: 300,
    busyExecutors: 4,
  },
  {
    id: "5b1c3d4e-0006-4a6b-8c9d-0e1f2a3b4c06",
    workGroup: "etl-spark",
    description: "late-arriving events",
    state: "DEGRADED",
    reason: "The session has no healthy coordinator: container exited with code 137 (out of memory)",
    startedAgo: 1800,
    sinceAgo: 300,
  },
  {
    id: "5b1c3d4e-0007-4a6b-8c9d-0e1f2a3b4c07",
    workGroup: "etl-spark",
    description: "vendor feed import",
    state: "FAILED",
    reason: "Session failed to start: the execution role cannot be assumed",
    startedAgo: 1500,
    sinceAgo: 1440,
  },
  {
    id: "5b1c3d4e-0008-4a6b-8c9d-0e1f2a3b4c08",
    workGroup: "analytics-spark",
    description: "weekly KPI report",
    state: "TERMINATED",
    reason: "Session terminated by the user",
    startedAgo: 900,
    sinceAgo: 120,
  },
  {
    id: "5b1c3d4e-0009-4a6b-8c9d-0e1f2a3b4c09",
    workGroup: DEMO_SPARK_35_WORKGROUP,
    description: "Spark Connect from SageMaker Unified Studio",
    state: "IDLE",
    startedAgo: 1200,
    sinceAgo: 600,
  },
  {
    id: "5b1c3d4e-000a-4a6b-8c9d-0e1f2a3b4c0a",
    workGroup: DEMO_SPARK_35_WORKGROUP,
    description: "feature engineering over Spark Connect",
    state: "BUSY",
    startedAgo: 900,
    busyExecutors: 8,
  },
];

/** The demo session whose workers fail one after another (an executor crash loop), and since when. */
export const DEMO_CRASH_LOOP = { sessionId: "5b1c3d4e-0006-4a6b-8c9d-0e1f2a3b4c06", loopsFromAgo: 300 } as const;

/**
 * The demo's calculations: fixed IDs (config.yaml lists them) whose lives
 * unfold over the first minutes after the simulator starts, so a dashboard
 * shows work queueing, running, completing, failing and being canceled.
 */
export const DEMO_SESSIONS = [
  { id: "5b1c3d4e-0001-4a6b-8c9d-0e1f2a3b4c01", workGroup: "analytics-spark" },
  { id: "5b1c3d4e-0002-4a6b-8c9d-0e1f2a3b4c02", workGroup: "analytics-spark" },
  { id: "5b1c3d4e-0003-4a6b-8c9d-0e1f2a3b4c03", workGroup: "etl-spark" },
] as const;

interface DemoCalculation {
  readonly id: string;
  readonly session: number;
  readonly description: string;
  /** Seconds before the simulator's start at which it was submitted. */
  readonly submittedAgo: number;
  /** Seconds it waits in QUEUED. */
  readonly queueFor: number;
  /** Seconds it runs before it ends; Infinity keeps it running. */
  readonly runFor: number;
  readonly end: Extract<CalculationState, "COMPLETED" | "FAILED" | "CANCELED">;
  readonly reason?: string;
}

export const DEMO_CALCULATIONS: readonly DemoCalculation[] = [
  {
    id: "0f6b2b3e-1111-4c4b-9d07-6a8c0c2b5c11",
    session: 0,
    description: "daily revenue rollup",
    submittedAgo: 600,
    queueFor: 4,
    runFor: 240,
    end: "COMPLETED",
  },
  {
    id: "0f6b2b3e-2222-4c4b-9d07-6a8c0c2b5c12",
    session: 0,
    description: "sessionize clickstream",
    submittedAgo: 0,
    queueFor: 3,
    runFor: 45,
    end: "COMPLETED",
  },
  {
    id: "0f6b2b3e-3333-4c4b-9d07-6a8c0c2b5c13",
    session: 0,
    description: "train churn model",
    submittedAgo: 0,
    queueFor: 8,
    runFor: 30,
    end: "FAILED",
    reason: "Py4JJavaError: java.lang.OutOfMemoryError: Java heap space",
  },
  {
    id: "0f6b2b3e-4444-4c4b-9d07-6a8c0c2b5c14",
    session: 1,
    description: "ad-hoc cohort query",
    submittedAgo: 0,
    queueFor: 12,
    runFor: 20,
    end: "CANCELED",
    reason: "Canceled by user",
  },
  {
    id: "0f6b2b3e-5555-4c4b-9d07-6a8c0c2b5c15",
    session: 1,
    description: "backfill 2024 partitions",
    submittedAgo: 0,
    queueFor: 15,
    runFor: Infinity,
    end: "COMPLETED",
  },
  {
    id: "0f6b2b3e-6666-4c4b-9d07-6a8c0c2b5c16",
    session: 1,
    description: "feature store export",
    submittedAgo: 0,
    queueFor: 30,
    runFor: 90,
    end: "COMPLETED",
  },
  {
    id: "0f6b2b3e-7777-4c4b-9d07-6a8c0c2b5c17",
    session: 2,
    description: "ingest orders from S3",
    submittedAgo: 0,
    queueFor: 2,
    runFor: 60,
    end: "COMPLETED",
  },
  {
    id: "0f6b2b3e-8888-4c4b-9d07-6a8c0c2b5c18",
    session: 2,
    description: "dedupe customers",
    submittedAgo: 0,
    queueFor: 20,
    runFor: 40,
    end: "FAILED",
    reason: "AnalysisException: Table or view not found: customers_raw",
  },
  {
    id: "0f6b2b3e-9999-4c4b-9d07-6a8c0c2b5c19",
    session: 2,
    description: "compact small files",
    submittedAgo: 0,
    queueFor: 45,
    runFor: 120,
    end: "COMPLETED",
  },
  {
    id: "0f6b2b3e-aaaa-4c4b-9d07-6a8c0c2b5c1a",
    session: 2,
    description: "nightly aggregates",
    submittedAgo: 0,
    queueFor: 90,
    runFor: 60,
    end: "COMPLETED",
  },
];

/** The scripted states of one demo calculation, from `startMs`. */
function scheduleFor(calc: DemoCalculation, startMs: number): { submittedAtMs: number; schedule: ScheduledState[] } {
  const at = (seconds: number): number => startMs + seconds * 1000;
  const t = -calc.submittedAgo;
  const runAt = t + 2 + calc.queueFor;
  const schedule: ScheduledState[] = [
    { atMs: at(t + 1), state: "CREATED" },
    { atMs: at(t + 2), state: "QUEUED" },
    { atMs: at(runAt), state: "RUNNING" },
  ];
  if (Number.isFinite(calc.runFor)) {
    if (calc.end === "CANCELED") schedule.push({ atMs: at(runAt + calc.runFor - 2), state: "CANCELING" });
    schedule.push({ atMs: at(runAt + calc.runFor), state: calc.end, ...(calc.reason === undefined ? {} : { reason: calc.reason }) });
  }
  return { submittedAtMs: at(t), schedule };
}

export function loadDemoWorkload(state: AthenaState, startMs: number = state.now()): void {
  state.addWorkGroup(DEMO_SPARK_35_WORKGROUP, SPARK_35_ENGINE);
  for (const [workGroup, tags] of Object.entries(DEMO_TAGS)) state.tagWorkGroup(workGroup, tags);
  for (const session of DEMO_SESSIONS) state.addSession(session.workGroup, session.id);
  const ago = (seconds: number): number => startMs - seconds * 1000;
  for (const s of DEMO_OTHER_SESSIONS) {
    const since = s.sinceAgo === undefined ? undefined : ago(s.sinceAgo);
    state.addSession(s.workGroup, {
      id: s.id,
      description: s.description,
      state: s.state,
      startedAtMs: ago(s.startedAgo),
      ...(s.reason === undefined ? {} : { stateChangeReason: s.reason }),
      ...(since === undefined ? {} : { idleSinceMs: since, endedAtMs: since, lastModifiedMs: since }),
      ...(s.busyExecutors === undefined ? {} : { busyExecutors: s.busyExecutors }),
      ...(s.idleTimeoutMinutes === undefined ? {} : { idleTimeoutMinutes: s.idleTimeoutMinutes }),
    });
  }
  for (const s of DEMO_OTHER_SESSIONS) {
    if (s.busyExecutors !== undefined) state.executors.addWorkers(s.id, s.busyExecutors, ago(s.startedAgo), undefined);
  }
  // The degraded session's workers crash in a loop: one every minute fails 45 seconds after it starts, for an hour.
  for (let minute = 0; minute < 60; minute++) {
    const from = ago(DEMO_CRASH_LOOP.loopsFromAgo) + minute * 60_000;
    state.executors.addWorkers(DEMO_CRASH_LOOP.sessionId, 1, from, from + 45_000, true);
  }
  for (const calc of DEMO_CALCULATIONS) {
    const session = DEMO_SESSIONS[calc.session];
    if (session === undefined) continue;
    const { submittedAtMs, schedule } = scheduleFor(calc, startMs);
    // Its workers (one per DPU) run while it does; one fails with it.
    const running = schedule.find((step) => step.state === "RUNNING")?.atMs;
    const ended = schedule.find((step) => step.state === calc.end)?.atMs;
    if (running !== undefined) state.executors.addWorkers(session.id, 4, running, ended, calc.end === "FAILED");
    state.addCalculation({
      id: calc.id,
      sessionId: session.id,
      description: calc.description,
      submittedAtMs,
      state: "CREATING",
      schedule,
      dpus: 4,
      progress: "",
    });
  }
}
