import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cut, ECHO_MAX_CHARS, echoText, echoValue, redactUserinfo } from "../../../src/config/echo.js";

describe("echo", () => {
  const hidden: [string, string, string][] = [
    ["user and password", "https://user:s3cret@host/", "https://***@host/"],
    ["a user alone", "ftp://deploy@x", "ftp://***@x"],
    ["a password holding @ and /", "https://u:p@ss/w0rd@host:443/x", "https://***@host:443/x"],
    ["every URL of a line", "a http://a:1@h b s3://b:2@bucket c", "a http://***@h b s3://***@bucket c"],
    ["a URL inside JSON quotes", '"https://user:s3cret@host"', '"https://***@host"'],
  ];
  for (const [what, text, expected] of hidden) {
    it(`hides the userinfo of a URL: ${what}`, () => {
      assert.equal(redactUserinfo(text), expected);
    });
  }

  it("leaves text without userinfo as it is", () => {
    for (const text of ["user@example.com", "no URL here", "http://host:8080/path", "https://a/ b@c"]) {
      assert.equal(redactUserinfo(text), text);
    }
  });

  it("cuts long text to its bound, ending in an ellipsis, and keeps short text whole", () => {
    assert.equal(cut("short"), "short");
    assert.equal(cut("x".repeat(ECHO_MAX_CHARS)), "x".repeat(ECHO_MAX_CHARS));
    const long = cut("x".repeat(10_000));
    assert.equal(Array.from(long).length, ECHO_MAX_CHARS);
    assert.ok(long.endsWith("…"));
  });

  it("never splits a character of two UTF-16 units", () => {
    const cutText = cut("😀".repeat(100), 10);
    assert.equal(cutText, `${"😀".repeat(9)}…`);
  });

  it("hides the userinfo before cutting, so no part of a long password survives", () => {
    const password = "p".repeat(200);
    const text = echoText(`https://user:${password}@host/`);
    assert.equal(text, "https://***@host/");
    assert.ok(!echoText(`${"a".repeat(70)} https://user:${password}@host/`).includes("ppp"));
  });

  it("quotes strings as JSON and shows numbers and booleans as they are", () => {
    assert.equal(echoValue("5 minutes"), '"5 minutes"');
    assert.equal(echoValue('say "hi"'), '"say \\"hi\\""');
    assert.equal(echoValue(2.5), "2.5");
    assert.equal(echoValue(true), "true");
  });
});
