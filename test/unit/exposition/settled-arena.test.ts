import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as turn } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Calculation } from "../../../src/athena/calculation.js";
import { CALCULATION_FAMILIES, renderSettled } from "../../../src/calculations/metrics.js";
import { assembleFamilies, renderFamilies } from "../../../src/exposition/text-format.js";
import { deflatePiece, type Compress, type DeflatePiece } from "../../../src/exposition/gzip-body.js";
import { bodyBytes } from "../../body-text.js";
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
  bodyBytes(assembleFamilies(CALCULATION_FAMILIES, (f) => [arena.precompressed(f)])).toString("utf8");
const ups = (arena: SettledArena): number => parseExposition(text(arena)).filter((s) => s.name === "athena_calculation_up").length;
const expected = (indices: number[]): string =>
  renderFamilies(
    CALCULATION_FAMILIES,
    CALCULATION_FAMILIES.map((_, f) => indices.map((i) => lines(i)[f] ?? "").filter((l) => l !== "")),
  );

/** deflatePiece, keeping the compressions under way so that a test can wait until every full chunk is held as its piece. */
function trackedCompress(): { compress: Compress; idle: () => Promise<void> } {
  const pending: Promise<DeflatePiece>[] = [];
  return {
    compress: (text, options) => {
      const piece = deflatePiece(text, options);
      pending.push(piece);
      return piece;
    },
    idle: async () => {
      // Drops seal their chunks after the turn; each sealing lets the text go after its piece is in.
      // The compressions are let go once settled, so that their pieces are held only where the arena holds them.
      for (await turn(); pending.length > 0; await turn()) {
        await Promise.allSettled(pending.splice(0));
        await turn();
      }
    },
  };
}

describe("settled arena", () => {
  it("serves what was added, family by family, across many chunks", () => {
    const arena = new SettledArena(CALCULATION_FAMILIES.length);
    const all = Array.from({ length: 300 }, (_, i) => i);
    for (const i of all) arena.add(lines(i));
    assert.equal(text(arena), expected(all));
    assert.ok([...(arena.precompressed(0)?.text() ?? [])].length > 1, "the state family spans several chunks");
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
    assert.equal(ups(arena), 0);
  });

  it("compacts once dead bytes outnumber live ones, keeping the rest intact", () => {
    const arena = new SettledArena(CALCULATION_FAMILIES.length);
    const all = Array.from({ length: 400 }, (_, i) => i);
    const handles = all.map((i) => arena.add(lines(i)));
    const before = arena.precompressed(0)?.bytes ?? 0;
    handles.forEach((h, i) => {
      if (i % 4 !== 0) arena.remove(h);
    });
    assert.ok((arena.precompressed(0)?.bytes ?? 0) < before / 2, "dead bytes were reclaimed");
    // Removals since the last compaction stay as comment lines until the next.
    const withoutTombstones = text(arena).replace(/^# *\n/gm, "");
    assert.equal(withoutTombstones, expected(all.filter((i) => i % 4 === 0)));
    assert.equal(ups(arena), 100);
  });

  it("ignores a second removal of the same calculation", () => {
    const arena = new SettledArena(CALCULATION_FAMILIES.length);
    const a = arena.add(lines(1));
    arena.add(lines(2));
    arena.remove(a);
    arena.remove(a);
    assert.equal(ups(arena), 1);
  });

  it("serves the same text, takes drops out and compacts once full chunks are held as their deflate pieces alone", async () => {
    const { compress, idle } = trackedCompress();
    const arena = new SettledArena(CALCULATION_FAMILIES.length, compress);
    const all = Array.from({ length: 600 }, (_, i) => i);
    const handles = all.map((i) => arena.add(lines(i)));
    await idle();
    assert.equal(text(arena), expected(all));
    // Drops in chunks held as pieces: inflated, rewritten, compressed again.
    const kept = all.filter((i) => i % 5 !== 1);
    for (const i of all) if (i % 5 === 1) arena.remove(handles[i] ?? -1);
    assert.equal(text(arena).replace(/^# *\n/gm, ""), expected(kept));
    await idle();
    assert.equal(text(arena).replace(/^# *\n/gm, ""), expected(kept));
    // Enough drops to compact, reading the old streams from their pieces.
    const left = kept.filter((i) => i % 3 === 0);
    for (const i of kept) if (i % 3 !== 0) arena.remove(handles[i] ?? -1);
    await idle();
    const served = text(arena);
    // Without compaction, drops leave comment lines as long as the text was: the body would stay as long as all 600.
    assert.ok(served.length < expected(all).length * 0.6, "compaction took the dead bytes out");
    assert.equal(served.replace(/^# *\n/gm, ""), expected(left));
    assert.equal(promtoolCheckMetrics(served), "");
  });

  it("holds settled text compressed: its memory is a fraction of the text it serves", async () => {
    setFlagsFromString("--expose-gc");
    const collect = runInNewContext("gc") as () => void;
    // Buffers' memory is freed by a sweeper that runs after the collection: given a few turns to finish.
    const arrayBuffers = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) {
        collect();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return process.memoryUsage().arrayBuffers;
    };
    const { compress, idle } = trackedCompress();
    const before = await arrayBuffers();
    const arena = new SettledArena(CALCULATION_FAMILIES.length, compress);
    for (let i = 0; i < 5000; i++) arena.add(lines(i));
    await idle();
    const held = (await arrayBuffers()) - before;
    const served = Buffer.byteLength(text(arena));
    assert.ok(held < served / 4, `${(held / 1048576).toFixed(1)} MiB held for ${(served / 1048576).toFixed(1)} MiB of text`);
    // A gzip scrape joins each family's pieces into one buffer: the pieces are then held once, in it.
    let joined = 0;
    for (let family = 0; family < CALCULATION_FAMILIES.length; family++) {
      for (const piece of (await arena.precompressed(family)?.gzip()) ?? []) joined += piece.data.length;
    }
    const grew = (await arrayBuffers()) - before - held;
    assert.ok(grew < joined / 2, `${(grew / 1024).toFixed(0)} KiB more after joining ${(joined / 1024).toFixed(0)} KiB of pieces`);
  });
});
