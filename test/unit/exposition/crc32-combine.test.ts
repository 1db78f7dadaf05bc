import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { crc32Combine } from "../../../src/exposition/crc32-combine.js";

describe("crc32Combine", () => {
  it("equals the CRC-32 of the two texts one after the other", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        const whole = crc32(Buffer.concat([a, b]));
        assert.equal(crc32Combine(crc32(a), crc32(b), b.length), whole);
      }),
      { numRuns: 200 },
    );
  });

  it("handles lengths of many chunks, as a 100,000-calculation body has", () => {
    const a = Buffer.from("# TYPE athena_calculation_state gauge\n");
    const b = Buffer.alloc(5_000_000, 'athena_calculation_state{state="COMPLETED"} 1\n');
    assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(Buffer.concat([a, b])));
  });

  it("chains hundreds of pieces, most of one length, as a gzip scrape does", () => {
    const pieces = Array.from({ length: 300 }, (_, i) => Buffer.alloc(i % 7 === 0 ? 1000 + i : 65536, `piece ${i} `));
    let crc = 0;
    for (const piece of pieces) crc = crc32Combine(crc, crc32(piece), piece.length);
    assert.equal(crc, crc32(Buffer.concat(pieces)));
  });
});
