import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deflateRawSync, constants, gunzipSync, inflateRawSync } from "node:zlib";
import fc from "fast-check";
import { deflateLines, planLines } from "../../../src/exposition/line-deflate.js";
import { gzipBody, type BodyPart } from "../../../src/exposition/gzip-body.js";

/** Lines of heads and values, as the clock family writes them, with where each ends. */
function lines(heads: readonly Buffer[], values: readonly string[]): { text: Buffer; lineEnds: Uint32Array } {
  const parts = heads.map((head, i) => Buffer.concat([head, Buffer.from(`${values[i] ?? ""}\n`, "latin1")]));
  const lineEnds = new Uint32Array(parts.length);
  let at = 0;
  parts.forEach((part, i) => {
    at += part.length;
    lineEnds[i] = at;
  });
  return { text: Buffer.concat(parts), lineEnds };
}

/** Inflates a piece as the body ends it: with a final empty block. */
const inflated = (data: Buffer): Buffer => inflateRawSync(Buffer.concat([data, Buffer.from([0x03, 0x00])]));

const uuid = fc.uuid();
/** Heads that share starts and ends with their neighbours in the ways label sets do, and some that share nothing. */
const head = fc.oneof(
  fc
    .tuple(uuid, fc.constantFrom("s-1", "s-2"), fc.constantFrom("wg-a", "wg-b"))
    .map(
      ([id, session, wg]) =>
        `athena_calculation_duration_seconds{calculation_execution_id="${id}",session_id="${session}",workgroup="${wg}"} `,
    ),
  fc.string({ maxLength: 40 }).map((s) => `x{a="${s}"} `),
  fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
);
const value = fc.oneof(fc.double().map(String), fc.constantFrom("NaN", "+Inf", "-Inf", "0", ""));

describe("deflateLines", () => {
  it("inflates to the text, whatever the heads share", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(head, value), { maxLength: 60 }), (rows) => {
        const heads = rows.map(([h]) => Buffer.from(h, "latin1"));
        const { text, lineEnds } = lines(
          heads,
          rows.map(([, v]) => v),
        );
        const piece = deflateLines(planLines(heads), text, lineEnds);
        assert.ok(inflated(piece.data).equals(text));
        assert.equal(piece.length, text.length);
      }),
      { numRuns: 300 },
    );
  });

  it("splits shared parts longer than one match can copy, and codes heads as literals when the line before is out of reach", () => {
    const long = "k".repeat(700);
    const heads = [
      `${long}{id="1"} `,
      `${long}{id="2"} `,
      `${long}{id="3"} ${"z".repeat(40_000)}`,
      `${long}{id="4"} `,
      `${long}{id="5"} `,
    ].map((h) => Buffer.from(h));
    for (const extra of ["1", "12", "123", "1234"]) {
      const { text, lineEnds } = lines(heads, ["1", extra, "3.5", "4", "5"]);
      assert.ok(inflated(deflateLines(planLines(heads), text, lineEnds).data).equals(text), `with value ${extra}`);
    }
  });

  it("codes shared parts of every length a match splits into, and lines at every distance code up to 32 KiB", () => {
    // Shared starts of 259, 260, 516 and 517 bytes split into 256+3, 257+3, 258+258 and 258+256+3.
    for (const shared of [3, 258, 259, 260, 515, 516, 517, 600]) {
      const start = "s".repeat(shared);
      const heads = ["a", "b", "c"].map((id) => Buffer.from(`${start}${id}{x="tail-shared"} `));
      const { text, lineEnds } = lines(heads, ["1", "22", "333"]);
      assert.ok(inflated(deflateLines(planLines(heads), text, lineEnds).data).equals(text), `shared start of ${shared}`);
    }
    // Lines padded so that the previous line is as far back as each distance code reaches, and one byte past 32 KiB.
    for (const distance of [800, 1024, 1025, 3000, 8193, 20_000, 24_577, 32_767, 32_768, 32_769, 40_000]) {
      const pad = (id: string, length: number): Buffer => {
        const head = `m{id="${id}",pad="`;
        const tail = '"} ';
        return Buffer.from(head + "p".repeat(Math.max(0, length - head.length - tail.length)) + tail);
      };
      // Line length = head + value ("7") + newline.
      const heads = [pad("1", distance - 2), pad("2", distance - 2), pad("3", 40)];
      const { text, lineEnds } = lines(heads, ["7", "7", "7"]);
      assert.equal(lineEnds[0], Math.max(distance, 20));
      assert.ok(inflated(deflateLines(planLines(heads), text, lineEnds).data).equals(text), `previous line ${distance} bytes back`);
    }
  });

  it("is within 2.5x of zlib's fastest level on a scrape's durations, and joins a gzip body like any piece", async () => {
    // A session's calculations one after the other, as discovery lists them.
    const heads = Array.from({ length: 500 }, (_, i) =>
      Buffer.from(
        `athena_calculation_duration_seconds{calculation_execution_id="calc-${(i * 7919).toString(16).padStart(8, "0")}-4a4b-8c8d-0e0f",session_id="sess-${Math.floor(i / 5)}",workgroup="wg-${Math.floor(i / 100)}"} `,
      ),
    );
    const { text, lineEnds } = lines(
      heads,
      heads.map((_, i) => String(Math.round((3600 + i * 1.234) * 1000) / 1000)),
    );
    const piece = deflateLines(planLines(heads), text, lineEnds);
    const zlib = deflateRawSync(text, { level: constants.Z_BEST_SPEED, finishFlush: constants.Z_SYNC_FLUSH });
    assert.ok(piece.data.length < text.length / 4, `${piece.data.length} bytes for ${text.length}`);
    assert.ok(piece.data.length <= zlib.length * 2.5, `${piece.data.length} bytes against zlib's ${zlib.length}`);
    const part: BodyPart = { text: [text], bytes: text.length, gzip: () => Promise.resolve([piece]) };
    const body = Buffer.concat(await gzipBody([Buffer.from("# before\n"), part, Buffer.from("# after\n")]));
    assert.equal(gunzipSync(body).toString("latin1"), `# before\n${text.toString("latin1")}# after\n`);
  });
});
