import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AthenaServiceException,
  InternalServerException,
  InvalidRequestException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from "@aws-sdk/client-athena";
import { API_ERROR_CODES, classifyError, type ApiErrorCode } from "../../../src/athena/errors.js";

/** An AWS error the SDK has no class for, as it throws one: a service exception named after the body's __type. */
function aws(name: string, httpStatusCode: number, message = `${name} from Athena`): Error {
  return new AthenaServiceException({ name, $fault: httpStatusCode >= 500 ? "server" : "client", $metadata: { httpStatusCode }, message });
}

/** A Node system error, as net and dns throw them. */
function system(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: "connect" });
}

/** An error of a given name and no other shape, as @smithy/property-provider's CredentialsProviderError. */
function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
}

const $metadata = { httpStatusCode: 400 };

interface Row {
  readonly name: string;
  readonly error: unknown;
  readonly code: ApiErrorCode;
  /** The message it keeps for the logs, when the row is about it. */
  readonly message?: string;
}

const ROWS: readonly Row[] = [
  // AWS service errors, by the name the SDK gives them.
  {
    name: "ResourceNotFoundException",
    error: new ResourceNotFoundException({ message: "not found", $metadata }),
    code: "ResourceNotFoundException",
  },
  {
    name: "InvalidRequestException",
    error: new InvalidRequestException({ message: "bad id", $metadata }),
    code: "InvalidRequestException",
  },
  { name: "ValidationException", error: aws("ValidationException", 400), code: "InvalidRequestException" },
  {
    name: "InternalServerException",
    error: new InternalServerException({ message: "oops", $metadata: { httpStatusCode: 500 } }),
    code: "InternalServerException",
  },
  { name: "InternalFailure", error: aws("InternalFailure", 500), code: "InternalServerException" },
  { name: "ServiceUnavailable", error: aws("ServiceUnavailable", 503), code: "InternalServerException" },
  { name: "ThrottlingException", error: aws("ThrottlingException", 400), code: "ThrottlingException" },
  {
    name: "TooManyRequestsException",
    error: new TooManyRequestsException({ message: "slow down", $metadata }),
    code: "ThrottlingException",
  },
  { name: "Throttling (STS)", error: aws("Throttling", 400), code: "ThrottlingException" },
  { name: "RequestLimitExceeded", error: aws("RequestLimitExceeded", 400), code: "ThrottlingException" },
  { name: "AccessDeniedException", error: aws("AccessDeniedException", 400), code: "AccessDeniedException" },
  { name: "AccessDenied (STS AssumeRole)", error: aws("AccessDenied", 403), code: "AccessDeniedException" },
  { name: "UnrecognizedClientException", error: aws("UnrecognizedClientException", 400), code: "AccessDeniedException" },
  { name: "InvalidSignatureException", error: aws("InvalidSignatureException", 400), code: "AccessDeniedException" },
  { name: "ExpiredTokenException", error: aws("ExpiredTokenException", 400), code: "ExpiredCredentials" },
  { name: "ExpiredToken (STS)", error: aws("ExpiredToken", 400), code: "ExpiredCredentials" },
  {
    name: "CredentialsProviderError",
    error: named("CredentialsProviderError", "Could not load credentials from any providers"),
    code: "MissingCredentials",
  },
  { name: "RequestTimeout", error: aws("RequestTimeout", 408), code: "Timeout" },
  // Unknown names: the status decides.
  {
    name: "5xx of an unknown name",
    error: aws("BadGateway", 502, "upstream gone"),
    code: "InternalServerException",
    message: "upstream gone",
  },
  { name: "4xx of an unknown name", error: aws("PayloadTooLarge", 413, "too big"), code: "Other", message: "PayloadTooLarge: too big" },
  { name: "an error with neither a known name nor a status", error: named("WeirdError", "huh"), code: "Other", message: "WeirdError: huh" },
  // Node system errors.
  { name: "ECONNRESET", error: system("ECONNRESET", "read ECONNRESET"), code: "NetworkError", message: "read ECONNRESET" },
  { name: "ECONNREFUSED", error: system("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:4566"), code: "NetworkError" },
  { name: "ENOTFOUND", error: system("ENOTFOUND", "getaddrinfo ENOTFOUND athena.invalid"), code: "NetworkError" },
  { name: "EPIPE", error: system("EPIPE", "write EPIPE"), code: "NetworkError" },
  { name: "ETIMEDOUT", error: system("ETIMEDOUT", "connect ETIMEDOUT 10.0.0.1:443"), code: "Timeout" },
  {
    name: "the SDK's TimeoutError for a reset socket: its system code wins",
    error: Object.assign(named("TimeoutError", "socket hang up"), { code: "ECONNRESET" }),
    code: "NetworkError",
  },
  // Aborts and timeouts.
  { name: "AbortError of an aborted signal", error: AbortSignal.abort().reason, code: "Timeout" },
  {
    name: "TimeoutError of a timed-out signal",
    error: new DOMException("The operation was aborted due to timeout", "TimeoutError"),
    code: "Timeout",
  },
  {
    name: "the SDK's TimeoutError for a request timeout",
    error: named("TimeoutError", "Connection timed out after 2000 ms"),
    code: "Timeout",
  },
  // Answers the SDK could not read.
  { name: "SyntaxError from JSON.parse", error: thrown(() => JSON.parse('{"State":')), code: "InvalidResponse" },
  {
    name: "TypeError from the deserializer",
    error: thrown(() => (undefined as unknown as { x: number }).x), // a TypeError as V8 throws it
    code: "InvalidResponse",
  },
  // The log message is one line, and bounded.
  {
    name: "a multi-line message keeps its first line",
    error: aws("ThrottlingException", 400, "Rate exceeded\n  at stack"),
    code: "ThrottlingException",
    message: "Rate exceeded",
  },
  {
    name: "a long message is cut to 300 characters",
    error: aws("InternalFailure", 500, "x".repeat(1000)),
    code: "InternalServerException",
    message: "x".repeat(300),
  },
  // Not errors at all.
  { name: "a string", error: "boom", code: "Other", message: "boom" },
  { name: "undefined", error: undefined, code: "Other", message: "undefined" },
  { name: "null", error: null, code: "Other", message: "null" },
  { name: "a number", error: 42, code: "Other", message: "42" },
  {
    name: "a plain object that looks like an AWS error",
    error: { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } },
    code: "Other",
  },
];

describe("classifyError", () => {
  for (const row of ROWS) {
    it(`classifies ${row.name} as ${row.code}`, () => {
      const got = classifyError(row.error);
      assert.equal(got.code, row.code);
      if (row.message !== undefined) assert.equal(got.message, row.message);
    });
  }

  it("has a row for every code it can give", () => {
    assert.deepEqual(new Set(ROWS.map((r) => r.code)), new Set(API_ERROR_CODES));
  });
});
