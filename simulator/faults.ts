import type { Operation } from "./model.js";

/**
 * What can go wrong with an answer. Error kinds answer with AWS's own error
 * bodies; the others break the transport or the JSON the way networks and
 * overloaded services do.
 */
export type FaultKind =
  | "ThrottlingException"
  | "TooManyRequestsException"
  | "InternalServerException"
  | "InvalidRequestException"
  | "ResourceNotFoundException"
  | "ExpiredTokenException"
  | "malformed-json"
  | "truncated-json"
  | "unknown-state"
  | "missing-fields"
  | "connection-reset"
  | "delay";

/** Which requests a fault hits, and how often. */
export interface FaultScope {
  /** Only requests for this operation; all operations when absent. */
  readonly operation?: Operation;
  /** Only requests naming this calculation execution ID, session ID or workgroup (a workgroup ARN counts as its name). */
  readonly resourceId?: string;
  /** How many matching requests it hits before it clears; forever when absent. */
  remaining?: number;
}

export interface SimpleFault extends FaultScope {
  readonly kind: FaultKind;
  /** For "delay": how long to hold the answer. */
  readonly delayMs?: number;
}

/**
 * Answers HTTP 200, with the AWS JSON 1.1 content type, and `body` as the
 * whole answer, whatever it is: a hostile or broken service's answer.
 * Serialized by `hostileJson`: as JSON.stringify does, but infinities
 * become 1e999 and -1e999, which parse back as infinities.
 */
export interface RawAnswerFault extends FaultScope {
  readonly kind: "raw-answer";
  readonly body: unknown;
}

/**
 * Answers with the real answer, `fields` merged into its JSON: a plain object
 * over a plain object is merged key by key (so `{Status: {State: 7}}` keeps
 * the rest of Status), anything else replaces the value, and `undefined`
 * removes the key. Serialized as for "raw-answer". Error answers pass
 * through unchanged.
 */
export interface OverrideFieldsFault extends FaultScope {
  readonly kind: "override-fields";
  readonly fields: Readonly<Record<string, unknown>>;
}

export type Fault = SimpleFault | RawAnswerFault | OverrideFieldsFault;

export class FaultPlan {
  readonly #faults: Fault[] = [];

  add(fault: Fault): void {
    this.#faults.push({ ...fault });
  }

  clear(): void {
    this.#faults.length = 0;
  }

  /** The first fault that applies to this request, spending one of its uses. */
  take(operation: Operation, resourceId: string | undefined): Fault | undefined {
    const index = this.#faults.findIndex(
      (f) => (f.operation === undefined || f.operation === operation) && (f.resourceId === undefined || f.resourceId === resourceId),
    );
    if (index < 0) return undefined;
    const fault = this.#faults[index];
    if (fault === undefined) return undefined;
    if (fault.remaining !== undefined) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.#faults.splice(index, 1);
    }
    return fault;
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `base` with `fields` merged in, as "override-fields" describes; neither is modified. */
export function mergeFields(base: Readonly<Record<string, unknown>>, fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(base), ...Object.keys(fields)])) {
    const current = base[key];
    const value = Object.hasOwn(fields, key) ? fields[key] : current;
    if (value === undefined) continue;
    merged[key] = value !== current && isPlainObject(value) && isPlainObject(current) ? mergeFields(current, value) : value;
  }
  return merged;
}

/**
 * JSON text of any value as JSON.stringify writes it, except that Infinity
 * and -Infinity become the literals 1e999 and -1e999, which JSON parsers read
 * back as infinities. NaN is null, as JSON.stringify writes it; undefined is
 * left out of an object, and null in an array or at the top.
 */
export function hostileJson(value: unknown): string {
  return serialize(value) ?? "null";
}

function serialize(value: unknown): string | undefined {
  const v: unknown = hasToJson(value) ? value.toJSON() : value;
  if (typeof v === "number") return Number.isFinite(v) ? JSON.stringify(v) : v === Infinity ? "1e999" : v === -Infinity ? "-1e999" : "null";
  if (Array.isArray(v)) return `[${v.map((item) => serialize(item) ?? "null").join(",")}]`;
  if (isPlainObject(v)) {
    const members: string[] = [];
    for (const [key, item] of Object.entries(v)) {
      const text = serialize(item);
      if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(v); // undefined for undefined, functions and symbols
}

function hasToJson(value: unknown): value is { toJSON: () => unknown } {
  return typeof value === "object" && value !== null && typeof (value as { toJSON?: unknown }).toJSON === "function";
}
