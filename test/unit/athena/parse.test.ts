import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { toCalculation } from "../../../src/athena/parse.js";
import { CALCULATION_STATES, isFinished } from "../../../src/athena/calculation.js";
import { CALCULATION_FAMILIES, renderCalculation, renderSettled } from "../../../src/calculations/metrics.js";
import { renderFamilies, truncateLabelValue } from "../../../src/exposition/text-format.js";
import { parseExposition, promtoolCheckMetrics } from "../../helpers.js";

const epoch = fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 });
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', "\\", "\n", "\r", "\t", "\u2028", "\u2029", "\u0085", "é", "🚀", "{", "}", ",", "="),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
  ),
  maxLength: 300,
});

/** Answers shaped as the SDK hands them over, with every optional field sometimes absent. */
const answer = fc
  .record({
    id: fc.uuid(),
    session: fc.uuid(),
    description: fc.option(text, { nil: undefined }),
    workingDirectory: fc.option(text, { nil: undefined }),
    state: fc.constantFrom(...CALCULATION_STATES),
    reason: fc.option(text, { nil: undefined }),
    submitted: epoch,
    runMs: fc.integer({ min: 0, max: 86_400_000 }),
    dpuMillis: fc.option(fc.integer({ min: 0, max: 10_000_000_000 }), { nil: undefined }),
    progress: fc.option(text, { nil: undefined }),
  })
  .map((a) => ({
    input: a,
    sdk: {
      CalculationExecutionId: a.id,
      SessionId: a.session,
      Description: a.description,
      WorkingDirectory: a.workingDirectory,
      Status: {
        State: a.state,
        StateChangeReason: a.reason,
        SubmissionDateTime: new Date(a.submitted),
        CompletionDateTime: isFinished(a.state) ? new Date(a.submitted + a.runMs) : undefined,
      },
      Statistics: a.dpuMillis === undefined ? undefined : { DpuExecutionInMillis: a.dpuMillis, Progress: a.progress },
    },
  }));

const exposition = (lines: string[]): string =>
  renderFamilies(
    CALCULATION_FAMILIES,
    lines.map((l) => (l === "" ? [] : [l])),
  );

describe("from API answers to metric values (property-based)", () => {
  it("exports exactly the current state, DPU in seconds and duration in seconds, for any answer", () => {
    fc.assert(
      fc.property(answer, fc.integer({ min: 0, max: 86_400 }), ({ input, sdk }, later) => {
        const parsed = toCalculation(input.id, sdk);
        assert.ok(parsed.ok);
        const now = (input.submitted + input.runMs) / 1000 + later;
        const samples = parseExposition(
          exposition(
            renderCalculation({
              id: parsed.value.id,
              error: undefined,
              known: { calculation: parsed.value, workgroup: "wg", time: { nowSeconds: now, refreshedAt: now } },
            }),
          ),
        );
        const states = samples.filter((s) => s.name === "athena_calculation_state");
        assert.equal(states.length, 8);
        assert.deepEqual(
          states.filter((s) => s.value === 1).map((s) => s.labels.state),
          [input.state],
        );
        const dpu = samples.find((s) => s.name === "athena_calculation_dpu_execution_seconds")?.value;
        assert.equal(dpu, input.dpuMillis === undefined ? undefined : input.dpuMillis / 1000);
        const duration = samples.find((s) => s.name === "athena_calculation_duration_seconds")?.value ?? NaN;
        const expected = isFinished(input.state) ? input.runMs / 1000 : now - input.submitted / 1000;
        assert.ok(Math.abs(duration - expected) < 0.002, `duration ${duration} != ${expected}`);
        const info = samples.find((s) => s.name === "athena_calculation_info");
        assert.equal(info?.labels.description, truncateLabelValue(input.description ?? ""));
        assert.ok(samples.every((s) => s.labels.calculation_execution_id === input.id.toLowerCase()));
      }),
      { numRuns: 300 },
    );
  });

  it("renders exposition that promtool accepts, whatever text Athena sends", () => {
    const lines: string[][] = CALCULATION_FAMILIES.map(() => []);
    fc.assert(
      fc.property(answer, ({ input, sdk }) => {
        const parsed = toCalculation(input.id, sdk);
        assert.ok(parsed.ok);
        renderSettled(parsed.value.id, parsed.value, "wg").forEach((l, f) => {
          if (l !== "") lines[f]?.push(l);
        });
      }),
      { numRuns: 200 },
    );
    // Distinct IDs per run keep series unique across the batch.
    assert.equal(promtoolCheckMetrics(renderFamilies(CALCULATION_FAMILIES, lines)), "");
  });

  it("refuses an answer with an unknown state, no state, no session, or a negative DPU figure", () => {
    fc.assert(
      fc.property(
        answer,
        fc.string({ minLength: 1 }).filter((s) => !(CALCULATION_STATES as readonly string[]).includes(s)),
        ({ input, sdk }, state) => {
          assert.equal(toCalculation(input.id, { ...sdk, Status: { ...sdk.Status, State: state as never } }).ok, false);
          assert.equal(toCalculation(input.id, { ...sdk, Status: undefined }).ok, false);
          assert.equal(toCalculation(input.id, { ...sdk, SessionId: undefined }).ok, false);
          assert.equal(toCalculation(input.id, { ...sdk, Statistics: { DpuExecutionInMillis: -1 } }).ok, false);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("log locations of a calculation", () => {
  const base = { CalculationExecutionId: "0f6b2b3e-3333-4c4b-9d07-6a8c0c2b5c13", SessionId: "s", Status: { State: "FAILED" as const } };
  const uris = (stdErr: unknown) => {
    const parsed = toCalculation(base.CalculationExecutionId, { ...base, Result: { StdErrorS3Uri: stdErr as string } });
    assert.ok(parsed.ok);
    return parsed.value.result.stdErrorS3Uri;
  };

  it("keeps an S3 URI as the API model allows it (s3://, S3:// or https://) of bounded length, and drops anything else, without refusing the answer", () => {
    assert.equal(uris("s3://my-bucket/sessions/x/stderr.txt"), "s3://my-bucket/sessions/x/stderr.txt");
    assert.equal(uris("S3://my-bucket/sessions/x/stderr.txt"), "S3://my-bucket/sessions/x/stderr.txt");
    assert.equal(
      uris("https://my-bucket.s3.us-east-1.amazonaws.com/sessions/x/stderr.txt"),
      "https://my-bucket.s3.us-east-1.amazonaws.com/sessions/x/stderr.txt",
    );
    assert.equal(uris("http://my-bucket/stderr.txt"), "", "http is not among the model's schemes");
    assert.equal(uris("ftp://my-bucket/stderr.txt"), "");
    assert.equal(uris("s3://UPPER/stderr"), "", "bucket names are lower case");
    assert.equal(uris("https:///stderr"), "", "no host");
    assert.equal(uris("s3://bucket/a\nb"), "", "control characters");
    assert.equal(uris(`s3://bucket/${"k".repeat(1100)}`), "", "longer than any S3 key");
    assert.equal(uris(`https://${"h".repeat(300)}/k`), "", "longer than any host name");
    assert.equal(uris(undefined), "");
  });
});
