/**
 * A target's Athena API families (requests, failures, throttled attempts,
 * durations) in a registry of their own, most of their series the zeros
 * that make each operation's first failure visible to increase(). The
 * client records through the methods below only.
 */
import { Registry } from "prom-client";
import type { ApiErrorCode } from "./errors.js";
import { registryText } from "../exposition/registry-text.js";
import { promMetric, selfFamily } from "../exposition/self-family.js";

export const API_OPERATIONS = [
  "GetCalculationExecution",
  "GetSession",
  "GetWorkGroup",
  "ListWorkGroups",
  "ListSessions",
  "ListCalculationExecutions",
  "ListTagsForResource",
  "GetCallerIdentity",
  "ListExecutors",
] as const;
export type ApiOperation = (typeof API_OPERATIONS)[number];

export const API_REQUESTS_TOTAL = selfFamily({
  name: "athena_exporter_api_requests_total",
  type: "counter",
  help: "Requests made to the Athena API, by operation (SDK retries included in one request).",
  doc: "Athena API requests (SDK retries inside one request)",
  labelNames: ["operation"],
});

export const API_REQUEST_FAILURES_TOTAL = selfFamily({
  name: "athena_exporter_api_request_failures_total",
  type: "counter",
  help: "Athena API requests that failed, by operation and error code.",
  doc: "failed Athena API requests, by the error codes above",
  labelNames: ["operation", "error"],
});

export const API_THROTTLED_ATTEMPTS_TOTAL = selfFamily({
  name: "athena_exporter_api_throttled_attempts_total",
  type: "counter",
  help: "HTTP attempts Athena answered with a throttling error, by operation, including those a retry then hid.",
  doc: "HTTP attempts Athena throttled, including those a retry hid",
  labelNames: ["operation"],
});

export const API_REQUEST_DURATION_SECONDS = selfFamily({
  name: "athena_exporter_api_request_duration_seconds",
  type: "histogram",
  help: "Latency of Athena API requests, retries included.",
  doc: "Athena API latency, retries included",
  labelNames: ["operation"],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

export class ApiMetrics {
  readonly #registry = new Registry();
  readonly #requests = promMetric(API_REQUESTS_TOTAL, this.#registry);
  readonly #failures = promMetric(API_REQUEST_FAILURES_TOTAL, this.#registry);
  readonly #throttles = promMetric(API_THROTTLED_ATTEMPTS_TOTAL, this.#registry);
  readonly #duration = promMetric(API_REQUEST_DURATION_SECONDS, this.#registry);

  /** Creates zero-valued series so that the first failure of each kind is visible to increase(). */
  initialise(operations: readonly ApiOperation[], errors: readonly ApiErrorCode[]): void {
    for (const operation of operations) {
      this.#requests.inc({ operation }, 0);
      this.#throttles.inc({ operation }, 0);
      for (const error of errors) this.#failures.inc({ operation, error }, 0);
    }
  }

  /** A call is sent: counted now; the returned function observes its duration when it ends. */
  started(operation: ApiOperation): () => void {
    this.#requests.inc({ operation });
    const stop = this.#duration.startTimer({ operation });
    return () => {
      stop();
    };
  }

  failed(operation: ApiOperation, error: ApiErrorCode): void {
    this.#failures.inc({ operation, error });
  }

  /** One HTTP attempt throttled, retried or not; `operation` is the SDK command's name. */
  throttled(operation: string): void {
    this.#throttles.inc({ operation });
  }

  /** The families in the text format. */
  async text(): Promise<string> {
    return registryText(this.#registry);
  }
}
