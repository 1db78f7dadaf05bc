import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import type { AthenaSimulator } from "../../simulator/server.js";
import { executorsListed, parseExposition, stackFor, waitFor } from "../helpers.js";

/**
 * README's series-count paragraph (Performance) says what one calculation,
 * one session and one workgroup cost in series. The figures are measured
 * here from real scrapes, by difference between exporters watching one more
 * of each, so the paragraph cannot drift from the exposition.
 */

const HOUR = 3_600_000;

/** Series that grow with what is watched: athena_*, without the exporter's own and the configured price. */
const isWatchedSeries = (name: string): boolean =>
  name.startsWith("athena_") && !name.startsWith("athena_exporter_") && name !== "athena_dpu_hour_price_usd";

type Kind = "completed" | "failed" | "running";

/** Adds one calculation of `kind` to `session`, with DPU statistics once settled, as Athena gives them. */
function add(sim: AthenaSimulator, session: string, kind: Kind): string {
  const now = Date.now();
  return sim.state.addCalculation({
    sessionId: session,
    description: "nightly job",
    state: kind === "completed" ? "COMPLETED" : kind === "failed" ? "FAILED" : "RUNNING",
    stateChangeReason: kind === "failed" ? "AnalysisException: Table or view not found" : "",
    submittedAtMs: now - HOUR,
    ...(kind === "running" ? {} : { completedAtMs: now - 60_000, dpuExecutionMillis: 5000 }),
  }).id;
}

/** What one exporter is given: per workgroup, its sessions (ended or not), each with its calculations. */
type Layout = Record<string, { ended?: boolean; calculations: Kind[] }[]>;

async function seriesOf(t: Parameters<typeof stackFor>[0], layout: Layout): Promise<number> {
  const stack = await stackFor(t, (sim) => {
    const calculations: string[] = [];
    for (const [workgroup, sessions] of Object.entries(layout)) {
      for (const s of sessions) {
        const session = sim.state.addSession(
          workgroup,
          s.ended === true ? { state: "TERMINATED", startedAtMs: Date.now() - 2 * HOUR } : {},
        );
        for (const kind of s.calculations) calculations.push(add(sim, session.id, kind));
      }
    }
    return { calculations };
  });
  // The first scrapes fetch everything and expose new workgroups' counters at 0;
  // what a steady scrape shows is the one after every session's executors are listed.
  await waitFor(async () => executorsListed(await stack.scrape()), 10_000, "every session's executors listed");
  const text = await stack.scrape();
  const down = parseExposition(text).filter((s) => (s.name === "athena_calculation_up" || s.name === "athena_session_up") && s.value !== 1);
  assert.deepEqual(down, [], "every calculation and session answered");
  return parseExposition(text).filter((s) => isWatchedSeries(s.name)).length;
}

export interface SeriesCosts {
  readonly completed: number;
  readonly failed: number;
  readonly running: number;
  readonly activeSession: number;
  readonly endedSession: number;
  readonly workgroup: number;
}

async function measure(t: Parameters<typeof stackFor>[0]): Promise<SeriesCosts> {
  const base = await seriesOf(t, { a: [{ calculations: ["completed"] }] });
  const plus = async (layout: Layout): Promise<number> => (await seriesOf(t, layout)) - base;
  const completed = await plus({ a: [{ calculations: ["completed", "completed"] }] });
  const failed = await plus({ a: [{ calculations: ["completed", "failed"] }] });
  const running = await plus({ a: [{ calculations: ["completed", "running"] }] });
  const activeSession = (await plus({ a: [{ calculations: ["completed"] }, { calculations: ["completed"] }] })) - completed;
  const endedSession = (await plus({ a: [{ calculations: ["completed"] }, { ended: true, calculations: ["completed"] }] })) - completed;
  const workgroup =
    (await plus({ a: [{ calculations: ["completed"] }], b: [{ calculations: ["completed"] }] })) - completed - activeSession;
  return { completed, failed, running, activeSession, endedSession, workgroup };
}

describe("series per calculation, session and workgroup", () => {
  it("are what README's Performance section says they are", async (t) => {
    const costs = await measure(t);
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const stated = /<!-- series-count:start -->([\s\S]*?)<!-- series-count:end -->/.exec(readme)?.[1] ?? "";
    assert.notEqual(stated, "", "README has a series-count paragraph between its markers");
    const figure = (what: string): number =>
      Number(new RegExp(`\\*\\*(\\d+)\\*\\* (?:series )?(?:for |per )?${what}`).exec(stated)?.[1] ?? NaN);
    assert.deepEqual(
      {
        completed: figure("a settled COMPLETED calculation"),
        failed: figure("a FAILED one"),
        running: figure("an unfinished one"),
        activeSession: figure("an active session"),
        endedSession: figure("an ended one"),
        workgroup: figure("a workgroup"),
      },
      costs,
    );
  });
});
