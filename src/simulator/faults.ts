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

export interface Fault {
  readonly kind: FaultKind;
  /** Only requests for this operation; all operations when absent. */
  readonly operation?: Operation;
  /** Only requests naming this calculation execution (or session) ID. */
  readonly resourceId?: string;
  /** How many matching requests it hits before it clears; forever when absent. */
  remaining?: number;
  /** For "delay": how long to hold the answer. */
  readonly delayMs?: number;
}

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
      (f) =>
        (f.operation === undefined || f.operation === operation) &&
        (f.resourceId === undefined || f.resourceId === resourceId),
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
