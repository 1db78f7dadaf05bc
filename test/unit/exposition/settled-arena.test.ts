import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Calculation } from "../../../src/athena/calculation.js";
import { CALCULATION_FAMILIES, renderSettled } from "../../../src/calculations/metrics.js";
import { assembleFamilies, renderFamilies } from "../../../src/exposition/text-format.js";
import { identityBody } from "../../../src/exposition/gzip-body.js";
import { SettledArena } from "../../../src/exposition/settled-arena.js";
import { parseExposition, promtoolCheckMetrics } from "../../helpers.js";

function calculation(i: number): Calculation {
  return {
    id: `0f6b2b3e-${String(i).padStart(4, "0")}-4c4b-9d07-6a8c0c2b5c11`,
    sessionId: "5b1c3d4e-0001-4a6b-8c9d-0e1f2a3b4c01",
    description: `job ${i} – Übersicht 🚀`,
    workingDirectory: "s3://bucket/wd/",
    state: i % 3 === 0 ? "FAILED" : "COMPLETED",
    stateChangeReason: i % 3 === 0 ? `error "${i}"\\n` : "",
    submittedAt: 1_700_000_000 + i,
    completedAt: 1_700_000_100 + i,
    dpuExecutionSeconds: i / 10,
    progress: "",
    result: { stdOutS3Uri: "", stdErrorS3Uri: "", resultS3Uri: "", resultType: "TEXT" },
  };
}

const lines = (i: number): string[] => renderSettled(calculation(i).id, calculation(i), "wg");
const text = (arena: SettledArena): string =>
  Buffer.concat(identityBody(assembleFamilies(CALCULATION_FAMILIES, (f) => [arena.precompressed(f)]))).toString("utf8");
const expected = (indices: number[]): string =>
  renderFamilies(
    CALCULATION_FAMILIES,
    CALCULATION_FAMILIES.map((_, f) => indices.map((i) => lines(i)[f] ?? "").filter((l) => l !== "")),
  );

describe("settled arena", () => {
  it("serves what was added, family by family, across many chunks", () => {
    const arena = new SettledArena(CALCULATION_FAMILIES.length);
    const all = Array.from({ length: 300 }, (_, i) => i);
    for (const i of all) arena.add(lines(i));
    assert.equal(text(arena), expected(all));
    assert.ok(arena.views(0).length > 1, "the state family spans several chunks");
  });

  it("takes a removed calculation's samples out, leaving valid exposition", () => {
    const arena = new SettledArena(CALCULATION_FAMILIES.length);
    const handles = Array.from({ length: 10 }, (_, i) => arena.add(lines(i)));
    const removed = handles[4];
    assert.ok(removed !== undefined);
    arena.remove(removed);
    const served = text(arena);
    const ids = new Set(parseExposition(served).map((s) => s.labels.calculation_execution_id));
    assert.ok(!ids.has(calculation(4).id));
    assert.equal(ids.size, 9);
    assert.equal(promtoolCheckMetrics(served), "");
  });

  it("reuses a removed calculation's place for the next one, which is then removed alone", () => {
    const arena = new SettledArena(CALCULATION_FAMILIES.length);
    const [first, second] = [arena.add(lines(0)), arena.add(lines(1))];
    arena.remove(first);
    const third = arena.add(lines(2));
    const ids = (): Set<string | undefined> => new Set(parseExposition(text(arena)).map((s) => s.labels.calculation_execution_id));
    assert.deepEqual(ids(), new Set([calculation(1).id, calculation(2).id]));
    arena.remove(third);
    arena.remove(third);
    assert.deepEqual(ids(), new Set([calculation(1).id]));
    arena.remove(second);
    assert.equal(arena.size, 0);
  });

  it("compacts once dead bytes outnumber live ones, keeping the rest intact", () => {
    const arena = new SettledArena(CALCULATION_FAMILIES.length);
    const all = Array.from({ length: 400 }, (_, i) => i);
    const handles = all.map((i) => arena.add(lines(i)));
    const before = arena.bytes(0);
    handles.forEach((h, i) => {
      if (i % 4 !== 0) arena.remove(h);
    });
    assert.ok(arena.bytes(0) < before / 2, "dead bytes were reclaimed");
    // Removals since the last compaction stay as comment lines until the next.
    const withoutTombstones = text(arena).replace(/^# *\n/gm, "");
    assert.equal(withoutTombstones, expected(all.filter((i) => i % 4 === 0)));
    assert.equal(arena.size, 100);
  });

  it("ignores a second removal of the same calculation", () => {
    const arena = new SettledArena(CALCULATION_FAMILIES.length);
    const a = arena.add(lines(1));
    arena.add(lines(2));
    arena.remove(a);
    arena.remove(a);
    assert.equal(arena.size, 1);
    assert.equal(parseExposition(text(arena)).filter((s) => s.name === "athena_calculation_up").length, 1);
  });
});
