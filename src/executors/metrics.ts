import { defineFamily, type FamilyGenerator } from "../exposition/family-generator.js";
import type { ExecutorsEntry } from "./cache.js";
import { EXECUTOR_STATES, EXECUTOR_TYPES, isExecutorEnded } from "../athena/executor.js";

/** Per-session executor families, in the order they are exposed; a session not yet listed has none. */
export const EXECUTOR_FAMILIES: readonly FamilyGenerator<ExecutorsEntry>[] = [
  defineFamily({
    name: "athena_session_executors",
    type: "gauge",
    help: "Executors of the session (ListExecutors), by type and state; a type and state with none is absent.",
    doc: "executors of the session by `type` (COORDINATOR, GATEWAY, WORKER) and `state` (CREATING, CREATED, REGISTERED, TERMINATING, TERMINATED, FAILED); absent when none",
    labelNames: ["session_id", "workgroup", "type", "state"],
    generate: (entry) => {
      if (entry.listings === 0) return [];
      const counts = new Map(entry.dropped);
      for (const e of entry.executors.values()) {
        const key = `${e.type} ${e.state}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return EXECUTOR_TYPES.flatMap((type) =>
        EXECUTOR_STATES.flatMap((state) => {
          const n = counts.get(`${type} ${state}`) ?? 0;
          return n === 0 ? [] : [[[entry.sessionId, entry.workgroup, type, state], n] as const];
        }),
      );
    },
  }),
  defineFamily({
    name: "athena_session_executor_dpus",
    type: "gauge",
    help: "DPUs held now by the session's executors that have not ended (the sum of their ExecutorSize).",
    doc: "DPUs held now by the session's executors not TERMINATED or FAILED (sum of `ExecutorSize`); compare with `athena_session_max_concurrent_dpus`",
    labelNames: ["session_id", "workgroup"],
    generate: (entry) => {
      if (entry.listings === 0) return [];
      let dpus = 0;
      for (const e of entry.executors.values()) if (!isExecutorEnded(e.state)) dpus += e.size;
      return [[[entry.sessionId, entry.workgroup], dpus]];
    },
  }),
];

export const EXECUTOR_COUNTER_FAMILIES: readonly FamilyGenerator<{ readonly workgroup: string; readonly failed: number }>[] = [
  defineFamily({
    name: "athena_executors_failed_total",
    type: "counter",
    help: "Executors of the workgroup's sessions this exporter saw go FAILED while it watched them.",
    doc: "executors this exporter saw go FAILED while it watched their session, once each; a restart never counts the past again",
    labelNames: ["workgroup"],
    generate: ({ workgroup, failed }) => [[[workgroup], failed]],
  }),
];
