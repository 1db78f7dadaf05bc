import type { AthenaState } from "./athena-state.js";
import { isSessionEnded, type ScheduledState, type SimSession } from "./model.js";
import { DEMO_SPARK_35_WORKGROUP } from "./demo-workload.js";
import type { AthenaSimulator } from "./server.js";

/**
 * The demo's never-ending workload: sessions in each PySpark workgroup keep
 * submitting calculations that queue, run (with progress), complete, fail
 * (with and without a reason) or get canceled; sessions go idle, end, fail
 * and are replaced; Spark 3.5 sessions come and go. Its rhythm is chosen so
 * that each alert a workload can cause fires within the first hour or two,
 * and it forgets old work so that it runs for days in bounded memory.
 *
 * It is driven by `tick()` (the demo calls it every second) and reads time
 * from the simulator's clock, so a test replays hours in a moment.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Calculation submitters per PySpark workgroup, and how each behaves. */
const WORKGROUPS = [
  { name: "analytics-spark", sessions: 2 },
  { name: "etl-spark", sessions: 2 },
] as const;

/**
 * etl-spark goes through a bad stretch: from minute 2 to 17 of every 45,
 * most of its calculations fail, enough for AthenaCalculationFailureRatioHigh
 * (over a quarter of 30 minutes' finishes) to fire in the demo's first ten minutes.
 */
const BAD_STRETCH = { workGroup: "etl-spark", everyMs: 45 * MINUTE, fromMs: 2 * MINUTE, toMs: 17 * MINUTE, failureRate: 0.6 };
const FAILURE_RATE = 0.08;
const CANCEL_RATE = 0.07;
/** A few calculations run for 70 minutes: long enough for AthenaCalculationStuck (RUNNING over an hour). */
const LONG_RUN_RATE = 0.01;
/** One session in eight dies, taking its unfinished calculations with it (AthenaSessionFailed). */
const SESSION_FAILURE_RATE = 0.125;
/** Ended sessions, with their calculations, are forgotten after this; the demo's exporter drops their series after 6 h. */
const FORGET_AFTER_MS = 7 * HOUR;
/** Throttling storms (AthenaExporterThrottled): minutes 20 to 34 of every two hours. */
export const THROTTLING = { everyMs: 2 * HOUR, fromMs: 20 * MINUTE, toMs: 35 * MINUTE, perMinute: 12 };

const FAILURE_REASONS = [
  "Py4JJavaError: An error occurred while calling o112.save: java.lang.OutOfMemoryError: Java heap space",
  "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw_events` cannot be found.",
  "SparkException: Job aborted due to stage failure: Task 14 in stage 3.0 failed 4 times",
  "ModuleNotFoundError: No module named 'prophet'",
];
const DESCRIPTIONS = [
  "hourly revenue rollup",
  "sessionize clickstream",
  "score churn model",
  "ingest orders from S3",
  "dedupe customers",
  "compact small files",
  "refresh feature store",
  "export KPI extract",
  "validate partner feed",
  "aggregate ad impressions",
];

/** A small seeded generator (mulberry32): the same seed replays the same workload. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Submitter {
  readonly sessionId: string;
  readonly workGroup: string;
  /** It stops submitting then, ends once its calculations have and it has idled a while. */
  readonly submitsUntilMs: number;
  nextSubmitAtMs: number;
  /** When set, the session fails at this time instead of ending quietly. */
  readonly failsAtMs: number | undefined;
  /** How long it stays IDLE after its last calculation before it is terminated. */
  readonly idlesForMs: number;
}

interface ConnectSession {
  readonly sessionId: string;
  readonly idleAtMs: number;
  readonly endAtMs: number;
}

export interface DemoStreamOptions {
  readonly seed?: number;
  /** Called once a minute during a throttling storm with how many requests to throttle. */
  readonly throttle?: (requests: number) => void;
}

export class DemoStream {
  readonly #state: AthenaState;
  readonly #random: () => number;
  readonly #throttle: ((requests: number) => void) | undefined;
  readonly #startMs: number;
  #submitters: Submitter[] = [];
  #connect: ConnectSession[] = [];
  #nextConnectAtMs: number;
  #lastThrottleMinute = -1;
  #serial = 0;

  constructor(state: AthenaState, options: DemoStreamOptions = {}) {
    this.#state = state;
    this.#random = seededRandom(options.seed ?? 20261126);
    this.#throttle = options.throttle;
    this.#startMs = state.now();
    this.#nextConnectAtMs = this.#startMs + 5 * MINUTE;
    for (const wg of WORKGROUPS) for (let i = 0; i < wg.sessions; i++) this.#submitters.push(this.#newSubmitter(wg.name));
  }

  /** Moves the workload up to the simulator's now. */
  tick(): void {
    const now = this.#state.now();
    this.#submitters = this.#submitters.flatMap((s) => this.#step(s, now));
    this.#stepConnect(now);
    this.#stepThrottling(now);
    this.#forgetOld(now);
  }

  #step(s: Submitter, now: number): Submitter[] {
    const session = this.#state.sessions.get(s.sessionId);
    if (session === undefined || isSessionEnded(session.state)) return [];
    const calcs = this.#state.calculationsOf(s.sessionId);
    if (s.failsAtMs !== undefined && now >= s.failsAtMs) {
      this.#failSession(session);
      return [this.#newSubmitter(s.workGroup)];
    }
    if (now < s.submitsUntilMs) {
      while (s.nextSubmitAtMs <= now) {
        this.#submit(s, s.nextSubmitAtMs);
        s.nextSubmitAtMs += this.#between(20, 70) * SECOND;
      }
      this.#showProgress(calcs, now);
      return [s];
    }
    this.#showProgress(calcs, now);
    // Past its working life: it waits for its calculations, idles, then ends and a new one takes its place.
    if (calcs.some((c) => c.completedAtMs === undefined)) return [s];
    const lastEnd = Math.max(s.submitsUntilMs, ...calcs.map((c) => c.completedAtMs ?? 0));
    if (now < lastEnd + s.idlesForMs) return [s];
    this.#state.terminateSession(s.sessionId);
    return [this.#newSubmitter(s.workGroup)];
  }

  #newSubmitter(workGroup: string): Submitter {
    const now = this.#state.now();
    const life = this.#between(25, 50) * MINUTE;
    const session = this.#state.addSession(workGroup, {
      description: `${workGroup} notebook ${++this.#serial}`,
      startedAtMs: now,
      busyExecutors: 0,
    });
    const fails = this.#random() < SESSION_FAILURE_RATE;
    return {
      sessionId: session.id,
      workGroup,
      submitsUntilMs: now + life,
      nextSubmitAtMs: now + this.#between(1, 20) * SECOND,
      failsAtMs: fails ? now + life * this.#between(0.3, 0.9) : undefined,
      idlesForMs: this.#between(2, 8) * MINUTE,
    };
  }

  #submit(s: Submitter, atMs: number): void {
    const queueFor = this.#between(2, 25) * SECOND;
    const runFor = this.#random() < LONG_RUN_RATE ? 70 * MINUTE : this.#between(15, 240) * SECOND;
    const runAt = atMs + 2 * SECOND + queueFor;
    const endAt = runAt + runFor;
    const schedule: ScheduledState[] = [
      { atMs: atMs + SECOND, state: "CREATED" },
      { atMs: atMs + 2 * SECOND, state: "QUEUED" },
      { atMs: runAt, state: "RUNNING" },
    ];
    const roll = this.#random();
    const failureRate = this.#inBadStretch(s.workGroup, atMs) ? BAD_STRETCH.failureRate : FAILURE_RATE;
    if (roll < failureRate) {
      // Half of the failures carry no reason, as Athena sometimes answers.
      const withReason = this.#random() < 0.5;
      const reason = withReason ? FAILURE_REASONS[Math.floor(this.#random() * FAILURE_REASONS.length)] : undefined;
      schedule.push({ atMs: endAt, state: "FAILED", ...(reason === undefined ? {} : { reason }) });
    } else if (roll < failureRate + CANCEL_RATE) {
      schedule.push({ atMs: endAt - 2 * SECOND, state: "CANCELING" }, { atMs: endAt, state: "CANCELED", reason: "Canceled by user" });
    } else {
      schedule.push({ atMs: endAt, state: "COMPLETED" });
    }
    // Its workers run with it (drawn from what is drawn already, so the seed replays the same stream); one fails with it.
    const description = DESCRIPTIONS[Math.floor(this.#random() * DESCRIPTIONS.length)] ?? "";
    const dpus = Math.ceil(this.#between(1, 8));
    this.#state.executors.addWorkers(s.sessionId, dpus, runAt, endAt, roll < failureRate);
    this.#state.addCalculation({
      sessionId: s.sessionId,
      description,
      submittedAtMs: atMs,
      state: "CREATING",
      statistics: true,
      dpus,
      progress: "",
      schedule,
    });
  }

  /** Athena's Progress is free text a notebook sets; the demo's reads like Spark's stage progress. */
  #showProgress(calcs: ReturnType<AthenaState["calculationsOf"]>, now: number): void {
    for (const c of calcs) {
      if (c.state !== "RUNNING" || c.runningSinceMs === undefined) {
        if (c.completedAtMs !== undefined) c.progress = "";
        continue;
      }
      const end = c.schedule.find((step) => step.state !== "RUNNING")?.atMs ?? now;
      const share = Math.min(0.99, (now - c.runningSinceMs) / Math.max(1, end - c.runningSinceMs));
      const stages = 6;
      c.progress = `Stage ${Math.min(stages, 1 + Math.floor(share * stages))}/${stages}: ${Math.floor(share * 100)}% of tasks complete`;
    }
  }

  #failSession(session: SimSession): void {
    for (const c of this.#state.calculationsOf(session.id)) {
      if (c.completedAtMs !== undefined) continue;
      c.schedule.length = 0;
      this.#state.setState(c.id, "FAILED", "Session failed: the Spark coordinator stopped responding");
    }
    this.#state.setSessionState(session.id, "FAILED", "The session's coordinator was lost: container exited with code 137 (out of memory)");
  }

  #stepConnect(now: number): void {
    if (now >= this.#nextConnectAtMs) {
      const session = this.#state.addSession(DEMO_SPARK_35_WORKGROUP, {
        description: `Spark Connect session ${++this.#serial}`,
        state: "BUSY",
        startedAtMs: now,
        busyExecutors: Math.ceil(this.#between(2, 10)),
      });
      this.#connect.push({
        sessionId: session.id,
        idleAtMs: now + this.#between(5, 15) * MINUTE,
        endAtMs: now + this.#between(20, 35) * MINUTE,
      });
      this.#nextConnectAtMs = now + this.#between(10, 20) * MINUTE;
    }
    this.#connect = this.#connect.filter((c) => {
      const session = this.#state.sessions.get(c.sessionId);
      if (session === undefined) return false;
      if (now >= c.endAtMs) {
        this.#state.terminateSession(c.sessionId);
        return false;
      }
      if (now >= c.idleAtMs && session.state === "BUSY") this.#state.setSessionState(c.sessionId, "IDLE");
      return true;
    });
  }

  #stepThrottling(now: number): void {
    if (this.#throttle === undefined) return;
    const into = (now - this.#startMs) % THROTTLING.everyMs;
    const minute = Math.floor((now - this.#startMs) / MINUTE);
    if (into < THROTTLING.fromMs || into >= THROTTLING.toMs || minute === this.#lastThrottleMinute) return;
    this.#lastThrottleMinute = minute;
    this.#throttle(THROTTLING.perMinute);
  }

  #forgetOld(now: number): void {
    for (const session of [...this.#state.sessions.values()]) {
      if (session.endedAtMs !== undefined && now - session.endedAtMs > FORGET_AFTER_MS) this.#state.forgetSession(session.id);
    }
  }

  #inBadStretch(workGroup: string, atMs: number): boolean {
    if (workGroup !== BAD_STRETCH.workGroup) return false;
    const into = (atMs - this.#startMs) % BAD_STRETCH.everyMs;
    return into >= BAD_STRETCH.fromMs && into < BAD_STRETCH.toMs;
  }

  #between(low: number, high: number): number {
    return low + this.#random() * (high - low);
  }
}

/** Runs the stream against a running simulator, ticking every second; returns what stops it. */
export function runDemoStream(simulator: AthenaSimulator): () => void {
  const stream = new DemoStream(simulator.state, {
    throttle: (requests) => simulator.injectFault({ kind: "ThrottlingException", remaining: requests }),
  });
  const ticker = setInterval(() => stream.tick(), 1000);
  ticker.unref();
  return () => clearInterval(ticker);
}
