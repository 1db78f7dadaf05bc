import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CALCULATION_STATES } from "../../src/athena/calculation.js";
import type { Fault } from "../../simulator/faults.js";
import type { AthenaSimulator } from "../../simulator/server.js";
import { parseExposition, promtoolCheckMetrics, samplesOf, startStack, valueOf, type Sample, type Stack } from "../helpers.js";

const T0 = 1_700_000_000_000;
const TTL_MS = 10_000;
/** A number too big for a double: Number() reads it as Infinity. */
const HUGE = "9".repeat(400);

/**
 * What a user must see in any exposition, however hostile Athena's answers:
 * every watched calculation exactly once in athena_calculation_up, no series
 * of an ID nobody watches, no series twice, and only finite values in the
 * exporter's own families.
 */
function assertSane(text: string, watched: readonly string[]): Sample[] {
  const samples = parseExposition(text);
  const ups = samples.filter((s) => s.name === "athena_calculation_up").map((s) => s.labels.calculation_execution_id ?? "");
  assert.deepEqual([...ups].sort(), [...watched].sort(), "every watched calculation appears exactly once in athena_calculation_up");
  const strangers = samples.filter(
    (s) => s.labels.calculation_execution_id !== undefined && !watched.includes(s.labels.calculation_execution_id),
  );
  assert.deepEqual(
    strangers.map((s) => `${s.name} ${s.labels.calculation_execution_id ?? ""}`.slice(0, 200)),
    [],
    "no series of an unwatched ID",
  );
  const seen = new Set<string>();
  for (const s of samples) {
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    assert.ok(!seen.has(key), `series exposed twice: ${key.slice(0, 300)}`);
    seen.add(key);
    // prom-client's own nodejs_* gauges may be NaN before their first sample; the exporter's must never be.
    if (s.name.startsWith("athena_"))
      assert.ok(Number.isFinite(s.value), `${s.name} ${JSON.stringify(s.labels).slice(0, 200)} is ${s.value}`);
  }
  return samples;
}

interface Watched {
  readonly victim: string;
  readonly healthy: string;
  readonly finished: string;
  readonly sessionId: string;
}

/** Three watched calculations in one session: the one that will get hostile answers, a running one and a finished one. */
async function watchThree(): Promise<{ stack: Stack; ids: Watched; clock: { ms: number } }> {
  const clock = { ms: T0 };
  let ids: Watched | undefined;
  const stack = await startStack(
    (sim: AthenaSimulator) => {
      const session = sim.state.addSession("wg");
      const victim = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", submittedAtMs: T0, dpuExecutionMillis: 7000 }).id;
      const healthy = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", submittedAtMs: T0, dpuExecutionMillis: 3000 }).id;
      const finished = sim.state.addCalculation({
        sessionId: session.id,
        state: "COMPLETED",
        submittedAtMs: T0 - 60_000,
        completedAtMs: T0 - 1000,
        dpuExecutionMillis: 5000,
      }).id;
      ids = { victim, healthy, finished, sessionId: session.id };
      return { calculations: [victim, healthy, finished], extraYaml: `cache: {ttl: ${TTL_MS}ms}` };
    },
    { now: () => clock.ms },
  );
  if (ids === undefined) throw new Error("unreachable: setup ran");
  return { stack, ids, clock };
}

interface Case {
  /** What the answer holds, for the test's name. */
  readonly what: string;
  /** Fields of the victim's real answer the hostile one replaces. */
  readonly fields: (ids: Watched) => Record<string, unknown>;
  /** The victim has finished by the time the hostile answer comes. */
  readonly finishes: boolean;
}

const CASES: readonly Case[] = [
  { what: "a 10,000-character SessionId", fields: () => ({ SessionId: "5".repeat(10_000) }), finishes: true },
  { what: "a 10,000-character SessionId while still running", fields: () => ({ SessionId: "5".repeat(10_000) }), finishes: false },
  { what: "a numeric Description", fields: () => ({ Description: 42 }), finishes: true },
  { what: "a numeric Description while still running", fields: () => ({ Description: 42 }), finishes: false },
  {
    what: "the CalculationExecutionId of another watched calculation",
    fields: (ids) => ({ CalculationExecutionId: ids.healthy }),
    finishes: false,
  },
  {
    what: "the CalculationExecutionId of another watched, finished calculation",
    fields: (ids) => ({ CalculationExecutionId: ids.finished }),
    finishes: true,
  },
  { what: "Statistics.DpuExecutionInMillis 1e308", fields: () => ({ Statistics: { DpuExecutionInMillis: 1e308 } }), finishes: true },
  // The SDK itself refuses this one (a TypeError while deserializing): still an answer the exporter cannot use.
  {
    what: "a Status.SubmissionDateTime that is not a timestamp",
    fields: () => ({ Status: { SubmissionDateTime: "yesterday" } }),
    finishes: false,
  },
];

describe("hostile GetCalculationExecution answers, through the real SDK", () => {
  for (const c of CASES) {
    it(`an answer with ${c.what} shows the calculation once, down with InvalidResponse and its last good values; the others are unaffected`, async () => {
      const { stack, ids, clock } = await watchThree();
      const watched = [ids.victim, ids.healthy, ids.finished];
      try {
        const before = await stack.scrape();
        assertSane(before, watched);
        assert.equal(valueOf(before, "athena_calculation_up", { calculation_execution_id: ids.victim }), 1);

        if (c.finishes) stack.simulator.state.setState(ids.victim, "COMPLETED");
        stack.simulator.injectFault({
          kind: "override-fields",
          operation: "GetCalculationExecution",
          resourceId: ids.victim,
          fields: c.fields(ids),
        });
        clock.ms += TTL_MS + 1000;
        const text = await stack.scrape();
        assertSane(text, watched);
        assert.equal(promtoolCheckMetrics(text), "");
        const victim = { calculation_execution_id: ids.victim };
        // The finished calculation finished before the exporter started, so it is not counted; nor is any hostile figure.
        assert.equal(
          valueOf(text, "athena_calculations_dpu_execution_seconds_total", { workgroup: "wg" }),
          0,
          "no DPU-seconds are counted",
        );
        assert.equal(valueOf(text, "athena_calculation_up", victim), 0, "the hostile answer marks it down");
        assert.deepEqual(
          samplesOf(text, "athena_calculation_refresh_error_info").map((s) => s.labels),
          [{ ...victim, error: "InvalidResponse" }],
          "only it has a refresh error, InvalidResponse",
        );
        assert.equal(valueOf(text, "athena_calculation_state", { ...victim, state: "RUNNING" }), 1, "its last good state is kept");
        const kept = samplesOf(text, "athena_calculation_state").filter((s) => s.labels.calculation_execution_id === ids.victim);
        assert.deepEqual(new Set(kept.map((s) => s.labels.session_id)), new Set([ids.sessionId]), "with its real session");
        assert.equal(valueOf(text, "athena_calculation_dpu_execution_seconds", victim), 7, "its last good DPU time is kept");
        assert.equal(valueOf(text, "athena_calculation_last_refresh_timestamp_seconds", victim), T0 / 1000, "and how old it is");
        for (const other of [ids.healthy, ids.finished]) {
          assert.equal(valueOf(text, "athena_calculation_up", { calculation_execution_id: other }), 1, `${other} stays up`);
          assert.equal(
            samplesOf(text, "athena_calculation_state").filter((s) => s.labels.calculation_execution_id === other).length,
            8,
            `${other} has its 8 state series, once`,
          );
        }
        assert.equal(valueOf(text, "athena_calculation_state", { calculation_execution_id: ids.healthy, state: "RUNNING" }), 1);
        assert.equal(valueOf(text, "athena_calculation_state", { calculation_execution_id: ids.finished, state: "COMPLETED" }), 1);

        const logged = stack.logs().filter((l) => l.msg === "calculation refresh failed" && l.calculation_execution_id === ids.victim);
        assert.deepEqual(
          logged.map((l) => l.error),
          ["InvalidResponse"],
          "the refusal is logged, once",
        );

        // Within the TTL, scrapes serve what is held and do not ask Athena again.
        const calls = stack.simulator.calls("GetCalculationExecution", ids.victim);
        for (let i = 0; i < 3; i++) {
          const again = await stack.scrape();
          assertSane(again, watched);
          assert.equal(valueOf(again, "athena_calculation_up", victim), 0);
        }
        assert.equal(stack.simulator.calls("GetCalculationExecution", ids.victim), calls, "no refetch before the TTL has passed");

        stack.simulator.faults.clear();
        clock.ms += TTL_MS + 1000;
        const healed = await stack.scrape();
        assertSane(healed, watched);
        assert.equal(valueOf(healed, "athena_calculation_up", victim), 1, "a good answer brings it back");
        assert.equal(samplesOf(healed, "athena_calculation_refresh_error_info").length, 0);
        assert.equal(valueOf(healed, "athena_calculation_state", { ...victim, state: c.finishes ? "COMPLETED" : "RUNNING" }), 1);
        if (c.finishes) {
          await stack.scrape(); // a counter shows what it counted on the scrape after
          const counted = await stack.scrape();
          assert.equal(
            valueOf(counted, "athena_calculations_dpu_execution_seconds_total", { workgroup: "wg" }),
            7,
            "DPU-seconds are the sane answer of the calculation seen finishing",
          );
        }
      } finally {
        await stack.stop();
      }
    });
  }
});

describe("hostile Progress text, through the real SDK", () => {
  it(`an answer whose Progress is "${HUGE.slice(0, 3)}…(400 digits) of ${HUGE.slice(0, 3)}…(400 digits)" exposes no NaN progress ratio`, async () => {
    const { stack, ids, clock } = await watchThree();
    const watched = [ids.victim, ids.healthy, ids.finished];
    try {
      assertSane(await stack.scrape(), watched);
      stack.simulator.injectFault({
        kind: "override-fields",
        operation: "GetCalculationExecution",
        resourceId: ids.victim,
        fields: { Statistics: { Progress: `${HUGE} of ${HUGE}` } },
      });
      clock.ms += TTL_MS + 1000;
      const text = await stack.scrape();
      assertSane(text, watched);
      const ratio = valueOf(text, "athena_calculation_progress_ratio", { calculation_execution_id: ids.victim });
      assert.ok(ratio === undefined || (ratio >= 0 && ratio <= 1), `progress ratio ${String(ratio)}`);
    } finally {
      await stack.stop();
    }
  });
});

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Text for a failure report: long repetitions of a short run shown as a count, and cut to a readable length. */
function abbreviate(text: string): string {
  const short = text.replace(/(.{1,6}?)\1{19,}/gsu, (run, unit: string) => `${unit}…(${run.length / unit.length} times)`);
  return short.length > 3000 ? `${short.slice(0, 3000)}…` : short;
}

/** Values of every JSON type and then some, for any field: the wrong type is the point. */
function wrongValues(): fc.Arbitrary<unknown> {
  const hugeString = fc
    .tuple(fc.constantFrom("5", "a", '"', "\\", "\n", "é", "🚀", "\u2028", "\ud800"), fc.integer({ min: 201, max: 70_000 }))
    .map(([c, n]) => c.repeat(n));
  const oddNumber = fc.oneof(
    fc.constantFrom(
      0,
      -0,
      -1,
      0.5,
      1e308,
      -1e308,
      1.7976931348623157e308,
      5e-324,
      Number.MAX_SAFE_INTEGER + 2,
      2 ** 53,
      1e21,
      Infinity,
      -Infinity,
      NaN,
    ),
    fc.double(),
    fc.integer(),
  );
  return fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    hugeString,
    oddNumber,
    fc.string({ unit: "binary", maxLength: 50 }),
    fc.constantFrom(null, true, false, "", [], {}, [1, 2], { nested: { deeper: [null] } }),
    fc.constant(undefined), // leaves the field out
  );
}

/** Answers to GetCalculationExecution for `victim`, among `watched`: every field sometimes sane, sometimes anything. */
function hostileFaults(victim: string, watched: readonly string[]): fc.Arbitrary<Fault> {
  const anything = wrongValues();
  const saneText = fc.string({ maxLength: 300 });
  const sane = {
    id: fc.oneof(fc.constantFrom(victim, victim.toUpperCase(), ...watched), fc.uuid()),
    // Free text the exporter reads numbers from, huge ones included.
    progress: fc.oneof(
      saneText,
      fc.constantFrom("45%", "3/10", "3 of 10", "0/0", "5 of 0", "-5%", "150%", `${HUGE}%`, `${HUGE} of ${HUGE}`, `${HUGE}/7`),
    ),
    epochSeconds: fc.double({ min: 1_500_000_000, max: 2_000_000_000, noNaN: true }),
    state: fc.constantFrom(...CALCULATION_STATES, "HIBERNATING", "completed"),
    dpuMillis: fc.integer({ min: 0, max: 10_000_000 }),
  };
  const either = (arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof(arbitrary, anything);
  const model = {
    CalculationExecutionId: either(sane.id),
    SessionId: either(saneText),
    Description: either(saneText),
    WorkingDirectory: either(saneText),
    Status: {
      SubmissionDateTime: either(sane.epochSeconds),
      CompletionDateTime: either(sane.epochSeconds),
      State: either(sane.state),
      StateChangeReason: either(saneText),
    },
    Statistics: { DpuExecutionInMillis: either(sane.dpuMillis), Progress: either(sane.progress) },
    Result: { StdOutS3Uri: either(saneText), StdErrorS3Uri: either(saneText), ResultS3Uri: either(saneText), ResultType: either(saneText) },
  };
  const record = (shape: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> =>
    fc.record(shape, { requiredKeys: [] });
  // Any subset of the fields, nested objects sometimes replaced whole.
  const manyFields = record({
    CalculationExecutionId: model.CalculationExecutionId,
    SessionId: model.SessionId,
    Description: model.Description,
    WorkingDirectory: model.WorkingDirectory,
    Status: fc.oneof({ weight: 3, arbitrary: record(model.Status) }, anything),
    Statistics: fc.oneof({ weight: 3, arbitrary: record(model.Statistics) }, anything),
    Result: fc.oneof({ weight: 3, arbitrary: record(model.Result) }, anything),
  });
  // One to three fields of the real answer changed, the rest left as Athena gave it: most such answers are usable.
  const paths: readonly (readonly [string, fc.Arbitrary<unknown>])[] = [
    ...Object.entries(model).flatMap(([key, value]) =>
      value instanceof fc.Arbitrary
        ? [[key, value] as const]
        : [[key, anything] as const, ...Object.entries(value).map(([inner, arb]) => [key, arb.map((v) => ({ [inner]: v }))] as const)],
    ),
  ];
  const oneField = fc.constantFrom(...paths).chain(([key, value]) => value.map((v) => ({ [key]: v })));
  // Combined by hand: mergeFields would drop an undefined, which here means "leave the field out of the answer".
  const fewFields = fc.array(oneField, { minLength: 1, maxLength: 3 }).map((parts) => {
    const fields: Record<string, unknown> = {};
    for (const [key, value] of parts.flatMap((part) => Object.entries(part))) {
      const current = fields[key];
      fields[key] = isPlainObject(current) && isPlainObject(value) ? { ...current, ...value } : value;
    }
    return fields;
  });
  const scope = { operation: "GetCalculationExecution", resourceId: victim } as const;
  return fc.oneof(
    { weight: 3, arbitrary: fewFields.map((fields): Fault => ({ ...scope, kind: "override-fields", fields })) },
    { weight: 2, arbitrary: manyFields.map((fields): Fault => ({ ...scope, kind: "override-fields", fields })) },
    { weight: 1, arbitrary: manyFields.map((body): Fault => ({ ...scope, kind: "raw-answer", body })) },
    { weight: 1, arbitrary: fc.jsonValue().map((body): Fault => ({ ...scope, kind: "raw-answer", body })) },
  );
}

describe("any GetCalculationExecution answer, through the real SDK", () => {
  it("whatever Athena answers, /metrics answers 200, parses, shows every watched calculation exactly once and no other, with finite values; a refused answer is InvalidResponse", async () => {
    const clock = { ms: T0 };
    const victims: string[] = [];
    let finished = "";
    let running = "";
    const stack = await startStack(
      (sim) => {
        const session = sim.state.addSession("wg");
        for (let i = 0; i < 6; i++) {
          victims.push(
            sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", submittedAtMs: T0, dpuExecutionMillis: 1000 * (i + 1) }).id,
          );
        }
        running = sim.state.addCalculation({ sessionId: session.id, state: "RUNNING", submittedAtMs: T0 }).id;
        finished = sim.state.addCalculation({
          sessionId: session.id,
          state: "COMPLETED",
          submittedAtMs: T0 - 60_000,
          completedAtMs: T0 - 1000,
          dpuExecutionMillis: 5000,
        }).id;
        return { calculations: [...victims, running, finished], extraYaml: `cache: {ttl: ${TTL_MS}ms}` };
      },
      { now: () => clock.ms },
    );
    const watched = [...victims, running, finished];
    const scrapeSane = async (): Promise<string> => {
      const text = await stack.scrape(); // throws unless HTTP 200
      assertSane(text, watched);
      for (const bystander of [running, finished]) {
        assert.equal(
          valueOf(text, "athena_calculation_up", { calculation_execution_id: bystander }),
          1,
          `${bystander}, never hostile, stays up`,
        );
      }
      return text;
    };
    try {
      await scrapeSane();
      const details = await fc.check(
        fc.asyncProperty(fc.nat({ max: victims.length - 1 }), fc.gen(), async (index, generate) => {
          // A good answer first, so that the hostile one replaces known values.
          stack.simulator.faults.clear();
          clock.ms += TTL_MS + 1000;
          const healed = await scrapeSane();
          // A victim Athena once answered as finished is settled, never fetched again: take the next one that is not.
          const live = victims.filter(
            (v) => valueOf(healed, "athena_calculation_last_refresh_timestamp_seconds", { calculation_execution_id: v }) !== undefined,
          );
          const victim = live[index % Math.max(live.length, 1)];
          if (victim === undefined) return;
          stack.simulator.injectFault(generate(hostileFaults, victim, watched));
          clock.ms += TTL_MS + 1000;
          const text = await scrapeSane();
          const up = valueOf(text, "athena_calculation_up", { calculation_execution_id: victim });
          if (up === 0) {
            assert.deepEqual(
              samplesOf(text, "athena_calculation_refresh_error_info").map((s) => s.labels),
              [{ calculation_execution_id: victim, error: "InvalidResponse" }],
              "a refused answer is InvalidResponse",
            );
          }
          const calls = stack.simulator.calls("GetCalculationExecution", victim);
          await scrapeSane();
          assert.equal(stack.simulator.calls("GetCalculationExecution", victim), calls, "no refetch before the TTL has passed");
        }),
        // Bounded: 60 runs, and no more than 12 s with the shrinking of a failure.
        { numRuns: 60, plugins: [fc.interruptAfterTimeLimit(12_000)] },
      );
      if (details.failed) {
        const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        assert.fail(
          `${abbreviate(error)}\n  after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath ?? ""}", shrunk ${details.numShrinks} times)` +
            `\n  answer: ${abbreviate(fc.stringify(details.counterexample))}`,
        );
      }
      assert.equal(promtoolCheckMetrics(await scrapeSane()), "");
    } finally {
      await stack.stop();
    }
  });
});
