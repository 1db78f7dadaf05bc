import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate } from "node:timers/promises";
import { crc32, gunzipSync, gzipSync, inflateRawSync } from "node:zlib";
import type { Calculation } from "../../../src/athena/calculation.js";
import { CALCULATION_FAMILIES, renderSettled } from "../../../src/calculations/metrics.js";
import { deflatePiece, gzipBody, keptPromise, type BodyPart, type Compress, type DeflatePiece } from "../../../src/exposition/gzip-body.js";
import { SettledArena } from "../../../src/exposition/settled-arena.js";
import { assembleFamilies } from "../../../src/exposition/text-format.js";
import { bodyBytes } from "../../body-text.js";

function calculation(i: number): Calculation {
  const hex = i.toString(16).padStart(8, "0");
  return {
    id: `${hex}-9f1e-4c4b-9d07-6a8c0c2b5c11`,
    sessionId: `5b1c3d4e-${String(i % 97).padStart(4, "0")}-4a6b-8c9d-0e1f2a3b4c01`,
    description: `nightly job ${i % 40} – Übersicht`,
    workingDirectory: `s3://bucket/wd/${i % 7}/`,
    state: i % 9 === 0 ? "FAILED" : "COMPLETED",
    stateChangeReason: i % 9 === 0 ? `error "${i}"` : "",
    submittedAt: 1_700_000_000 + i * 13,
    completedAt: 1_700_000_100 + i * 17,
    dpuExecutionSeconds: (i * 7) / 10,
    progress: "",
    result: { stdOutS3Uri: "", stdErrorS3Uri: "", resultS3Uri: "", resultType: "TEXT" },
  };
}

const lines = (i: number): string[] => renderSettled(calculation(i).id, calculation(i), `wg-${i % 5}`);

/** The arena's families with a dynamic line in the first, as a scrape assembles them. */
function body(arena: SettledArena): BodyPart[] {
  const dynamic = Buffer.from('athena_calculation_state{calculation_execution_id="x"} 1\n');
  return [
    ...assembleFamilies(CALCULATION_FAMILIES, (f) => [arena.precompressed(f), f === 0 ? dynamic : undefined]),
    Buffer.from("# EOF-ish tail\n"),
  ];
}

const identity = bodyBytes;
/** The chunks of a family's stream: its text comes one buffer per chunk. */
const chunks = (arena: SettledArena, family: number): number => [...(arena.precompressed(family)?.text() ?? [])].length;
const gunzipped = async (parts: readonly BodyPart[]): Promise<Buffer> => gunzipSync(Buffer.concat(await gzipBody(parts)));

/** deflatePiece, counting the pieces it made (of one family's text, if named) and keeping the compressions under way. */
function countingCompress(): { compress: Compress; made: (family?: string) => number; settled: () => Promise<unknown> } {
  const families: string[] = [];
  const pending: Promise<DeflatePiece>[] = [];
  return {
    compress: (text, options) => {
      families.push(/^(\w+)[{ ]/m.exec(text.toString("latin1"))?.[1] ?? "");
      const piece = deflatePiece(text, options);
      pending.push(piece);
      return piece;
    },
    made: (family) => (family === undefined ? families.length : families.filter((f) => f === family).length),
    settled: () => Promise.allSettled(pending),
  };
}

function filled(n: number, compress: Compress = deflatePiece): { arena: SettledArena; handles: number[] } {
  const arena = new SettledArena(CALCULATION_FAMILIES.length, compress);
  const handles = Array.from({ length: n }, (_, i) => arena.add(lines(i)));
  return { arena, handles };
}

describe("gzip body of kept pieces", () => {
  it("is one gzip member, as browsers and clients that read only the first one need", async () => {
    const { arena } = filled(3000);
    const parts = body(arena);
    const gz = Buffer.concat(await gzipBody(parts));
    const text = identity(parts);
    // Header, one deflate stream holding all the text, then its CRC-32 and length: nothing after it.
    assert.deepEqual(gz.subarray(0, 3), Buffer.from([0x1f, 0x8b, 0x08]));
    assert.deepEqual(inflateRawSync(gz.subarray(10, -8)), text);
    assert.equal(gz.readUInt32LE(gz.length - 8), crc32(text));
    assert.equal(gz.readUInt32LE(gz.length - 4), text.length);
  });

  it("decompresses to exactly the identity body, across many chunks", async () => {
    const { arena } = filled(3000);
    assert.ok(chunks(arena, 1) > 3, "the info family spans several chunks");
    const parts = body(arena);
    assert.deepEqual(await gunzipped(parts), identity(parts));
  });

  it("stays within 1.25x of one gzip of the same text", async () => {
    const { arena } = filled(10_000);
    const parts = body(arena);
    const members = Buffer.concat(await gzipBody(parts)).length;
    const oneShot = gzipSync(identity(parts)).length;
    const ratio = members / oneShot;
    console.log(
      `# 10,000 settled: identity ${identity(parts).length} B, one gzip ${oneShot} B, pieces ${members} B, ratio ${ratio.toFixed(3)}`,
    );
    assert.ok(ratio <= 1.25, `pieces are ${ratio.toFixed(3)}x one gzip`);
  });

  it("holds a kept piece in a buffer of its own size, not zlib's output buffer as large as the text", async () => {
    const counting = countingCompress();
    const { arena } = filled(3000, counting.compress);
    await counting.settled();
    const [joined] = (await arena.precompressed(1)?.gzip()) ?? [];
    assert.ok(joined !== undefined);
    const text = arena.precompressed(1)?.bytes ?? 0;
    assert.ok(joined.data.length < text / 5, `${joined.data.length} B of deflate data for ${text} B of text`);
    assert.ok(
      joined.data.buffer.byteLength - joined.data.length < 1024,
      `${joined.data.buffer.byteLength} B held for ${joined.data.length}`,
    );
    const piece = await deflatePiece(Buffer.alloc(64 * 1024, "athena_calculation_up 1\n"));
    assert.ok(piece.data.buffer.byteLength - piece.data.length < 1024, `${piece.data.buffer.byteLength} B held for ${piece.data.length}`);
  });

  it("after drops, recompresses only the dropped calculations' chunks and still decodes to the identity body", async () => {
    const counting = countingCompress();
    const { arena, handles } = filled(3000, counting.compress);
    const fullChunks = CALCULATION_FAMILIES.reduce((n, _, f) => n + Math.max(0, chunks(arena, f) - 1), 0);
    assert.equal(counting.made(), fullChunks, "every chunk is compressed as it fills");
    const infoChunks = chunks(arena, 1);
    assert.ok(infoChunks > 3, `the info family spans ${infoChunks} chunks`);
    const info = (): Promise<readonly DeflatePiece[]> => arena.precompressed(1)?.gzip() ?? Promise.resolve([]);
    // Full chunks are compressed as they fill: the first gzip scrape compresses only the chunk being filled.
    await counting.settled();
    let made = counting.made();
    await info();
    assert.equal(counting.made() - made, 1, "the first gzip scrape compresses only the last chunk");
    // The first and the last calculation: the first chunk and the chunk still being filled.
    for (const i of [0, 2999]) {
      const handle = handles[i];
      assert.ok(handle !== undefined);
      arena.remove(handle);
    }
    const infoName = CALCULATION_FAMILIES[1]?.name;
    made = counting.made(infoName);
    const [joined] = await info();
    assert.equal(counting.made(infoName) - made, 2, "only the info family's two changed chunks are compressed again");
    const parts = body(arena);
    const text = identity(parts).toString("utf8");
    assert.ok(!text.includes(calculation(0).id) && !text.includes(calculation(2999).id));
    assert.deepEqual(await gunzipped(parts), identity(parts));
    // Made once per change: a second gzip scrape compresses nothing again, and sends the same text compressed.
    made = counting.made(infoName);
    const [again] = await info();
    assert.equal(counting.made(infoName), made);
    assert.deepEqual(again?.data, joined?.data);
    // Once the dropped chunk is compressed again and held as its piece alone, the joined piece is kept for every scrape.
    await counting.settled();
    await setImmediate();
    const [settled] = await info();
    assert.equal((await info())[0], settled);
  });

  it("decodes to the identity body after compaction", async () => {
    const { arena, handles } = filled(3000);
    await gzipBody(body(arena));
    const before = identity(body(arena)).length;
    // Dropping most of them compacts the streams on the way: without it, drops leave comment lines as long as the text.
    handles.slice(0, 2500).forEach((h) => arena.remove(h));
    const parts = body(arena);
    const text = identity(parts).toString("utf8");
    assert.ok(text.length < before / 2, `${text.length} B left of ${before} B`);
    assert.ok(text.includes(calculation(2700).id) && !text.includes(calculation(10).id));
    assert.deepEqual(await gunzipped(parts), identity(parts));
  });

  it("serves a scrape's own snapshot when calculations settle and drop while it compresses", async () => {
    const { arena, handles } = filled(2000);
    const parts = body(arena);
    const bytesThen = identity(parts).length;
    const compressing = gzipBody(parts);
    arena.add(lines(5000));
    const dropped = handles[1000];
    assert.ok(dropped !== undefined);
    arena.remove(dropped);
    const decodedBytes = gunzipSync(Buffer.concat(await compressing));
    const decoded = decodedBytes.toString("utf8");
    assert.ok(!decoded.includes(calculation(5000).id), "text settled after the scrape rendered is not in it");
    // A line dropped meanwhile is either still whole or a comment of as many bytes: the lengths match, every line parses.
    assert.equal(decodedBytes.length, bytesThen);
    for (const line of decoded.split("\n")) {
      assert.ok(line === "" || line.startsWith("#") || /^athena_calculation_\w+(\{.*\})? \S+$/.test(line), `torn line: ${line}`);
    }
    assert.deepEqual(await gunzipped(body(arena)), identity(body(arena)));
  });

  it("leaves out a family whose part is not asked for, without touching the others' members", async () => {
    const { arena } = filled(500);
    const all = await gunzipped(body(arena));
    const withoutInfo = assembleFamilies(CALCULATION_FAMILIES, (f) => (f === 1 ? [] : [arena.precompressed(f)]));
    const decoded = (await gunzipped(withoutInfo)).toString("utf8");
    assert.ok(!decoded.includes("athena_calculation_info"));
    assert.ok(all.toString("utf8").includes("athena_calculation_info"));
    assert.deepEqual(Buffer.from(decoded), identity(withoutInfo));
  });

  it("is a valid gzip stream even with nothing in it", async () => {
    assert.equal(gunzipSync(Buffer.concat(await gzipBody([]))).length, 0);
  });

  it("compresses a scrape's own text between kept pieces, and decodes to the identity body", async () => {
    const { arena } = filled(50);
    const scrapeText = Buffer.from(Array.from({ length: 3000 }, (_, i) => `x_total{n="${i}"} ${i}\n`).join(""));
    const tail = Buffer.from("# a kept tail\n");
    const kept: BodyPart = { text: () => [tail], bytes: tail.length, gzip: () => deflatePiece(tail).then((piece) => [piece]) };
    const parts = [...body(arena), scrapeText, kept];
    const gzipped = Buffer.concat(await gzipBody(parts));
    assert.deepEqual(gunzipSync(gzipped), identity(parts));
    const alone = Buffer.concat(await gzipBody([scrapeText]));
    assert.ok(alone.length < scrapeText.length / 3, `${alone.length} bytes for ${scrapeText.length}`);
  });

  it("keeps a made promise for the next calls, but forgets one that failed so that the next call tries again", async () => {
    let calls = 0;
    const kept = keptPromise(() => (++calls === 1 ? Promise.reject(new Error("first fails")) : Promise.resolve(calls)));
    await assert.rejects(kept(), /first fails/);
    assert.equal(await kept(), 2);
    assert.equal(await kept(), 2);
    assert.equal(calls, 2);
  });
});
