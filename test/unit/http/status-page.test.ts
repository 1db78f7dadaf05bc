import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { escapeHtml, smallestBy } from "../../../src/http/status-page.js";

describe("status page helpers", () => {
  it("smallestBy keeps the n smallest in order, as a full sort would, in one pass", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true })), fc.integer({ min: 0, max: 30 }), (values, n) => {
        const expected = [...values].sort((a, b) => a - b).slice(0, n);
        assert.deepEqual(
          smallestBy(values, n, (v) => v),
          expected,
        );
      }),
    );
  });

  it("escapeHtml leaves no character that HTML reads as markup or ends an attribute", () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&amp;</a>`), "&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;amp;&#60;/a&#62;");
  });
});
