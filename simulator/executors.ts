import { newId } from "./model.js";

/** Athena's ExecutorType enum. */
export const EXECUTOR_TYPES = ["COORDINATOR", "GATEWAY", "WORKER"] as const;
export type ExecutorType = (typeof EXECUTOR_TYPES)[number];

/** Athena's ExecutorState enum. */
export const EXECUTOR_STATES = ["CREATING", "CREATED", "REGISTERED", "TERMINATING", "TERMINATED", "FAILED"] as const;
export type ExecutorState = (typeof EXECUTOR_STATES)[number];

export function isExecutorState(value: unknown): value is ExecutorState {
  return typeof value === "string" && (EXECUTOR_STATES as readonly string[]).includes(value);
}

const isEnded = (state: ExecutorState): boolean => state === "TERMINATED" || state === "FAILED";

/** One step of an executor's scripted life: at `atMs` (epoch ms) it enters `state`. */
export interface ExecutorStep {
  readonly atMs: number;
  readonly state: ExecutorState;
}

export interface SimExecutor {
  readonly id: string;
  readonly sessionId: string;
  readonly type: ExecutorType;
  /** DPUs. */
  readonly size: number;
  /** It is not listed before it starts: executors come as a session scales up. */
  readonly startedAtMs: number;
  state: ExecutorState;
  terminatedAtMs: number | undefined;
  readonly schedule: ExecutorStep[];
}

export interface NewExecutor {
  id?: string;
  type?: ExecutorType;
  /** 1 DPU when absent, Athena's only executor size today. */
  size?: number;
  /** Now when absent. */
  startedAtMs?: number;
  /** REGISTERED when absent. */
  state?: ExecutorState;
  schedule?: ExecutorStep[];
}

/**
 * The executors of each session, as ListExecutors shows them: a coordinator
 * from the session's start, workers that tests and the demo add with a
 * scripted life (they come, go and sometimes fail), and every one still
 * running ended when its session ends.
 */
export class SessionExecutors {
  readonly #bySession = new Map<string, SimExecutor[]>();

  constructor(private readonly now: () => number) {}

  add(sessionId: string, spec: NewExecutor = {}): SimExecutor {
    const startedAtMs = spec.startedAtMs ?? this.now();
    const state = spec.state ?? "REGISTERED";
    const executor: SimExecutor = {
      id: spec.id ?? newId(),
      sessionId,
      type: spec.type ?? "WORKER",
      size: spec.size ?? 1,
      startedAtMs,
      state,
      terminatedAtMs: isEnded(state) ? this.now() : undefined,
      schedule: [...(spec.schedule ?? [])].sort((a, b) => a.atMs - b.atMs),
    };
    const list = this.#bySession.get(sessionId);
    if (list === undefined) this.#bySession.set(sessionId, [executor]);
    else list.push(executor);
    return executor;
  }

  /**
   * `count` one-DPU workers for a stretch of work from `fromMs` to `toMs`
   * (open-ended when undefined): CREATING, REGISTERED a few seconds later,
   * TERMINATED at the end, or the first of them FAILED when `fails`.
   */
  addWorkers(sessionId: string, count: number, fromMs: number, toMs: number | undefined, fails = false): void {
    for (let i = 0; i < count; i++) {
      const end: ExecutorStep[] = toMs === undefined ? [] : [{ atMs: toMs, state: fails && i === 0 ? "FAILED" : "TERMINATED" }];
      this.add(sessionId, {
        startedAtMs: fromMs,
        state: "CREATING",
        schedule: [{ atMs: Math.min(fromMs + 3000, toMs ?? Infinity), state: "REGISTERED" }, ...end],
      });
    }
  }

  /** Moves an executor to `state` now. */
  setState(id: string, state: ExecutorState): void {
    for (const list of this.#bySession.values()) {
      const executor = list.find((e) => e.id === id);
      if (executor !== undefined) {
        this.#enter(executor, state, this.now());
        return;
      }
    }
    throw new Error(`no executor ${id}`);
  }

  /** A session's end ends its executors still running, at the same time. */
  endSession(sessionId: string, atMs: number): void {
    for (const executor of this.#bySession.get(sessionId) ?? []) {
      this.#advance(executor);
      executor.schedule.length = 0;
      if (!isEnded(executor.state) && executor.startedAtMs <= atMs) this.#enter(executor, "TERMINATED", atMs);
    }
  }

  forget(sessionId: string): void {
    this.#bySession.delete(sessionId);
  }

  /** The session's executors that have started by now, up to date, newest first (of two started together, the one added last). */
  listed(sessionId: string): SimExecutor[] {
    const now = this.now();
    const started = (this.#bySession.get(sessionId) ?? []).filter((e) => e.startedAtMs <= now);
    for (const executor of started) this.#advance(executor);
    return started.reverse().sort((a, b) => b.startedAtMs - a.startedAtMs);
  }

  /** How many executors have FAILED, across every session: the truth the exporter's counter is checked against. */
  failures(): number {
    let failed = 0;
    for (const list of this.#bySession.values()) {
      for (const executor of list) {
        this.#advance(executor);
        if (executor.state === "FAILED") failed++;
      }
    }
    return failed;
  }

  #advance(executor: SimExecutor): void {
    const now = this.now();
    while (executor.schedule.length > 0 && (executor.schedule[0]?.atMs ?? Infinity) <= now) {
      const step = executor.schedule.shift();
      if (step !== undefined) this.#enter(executor, step.state, step.atMs);
    }
  }

  #enter(executor: SimExecutor, state: ExecutorState, atMs: number): void {
    if (isEnded(executor.state)) return; // an ended executor never comes back
    executor.state = state;
    if (isEnded(state)) executor.terminatedAtMs = atMs;
  }
}
