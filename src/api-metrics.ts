/**
 * A target's Athena API families (requests, failures, throttled attempts,
 * durations) in a registry of their own. Their ~250 series, most of them
 * the zeros that make each operation's first failure visible to
 * increase(), change only when a call is made, and most warm scrapes make
 * none: the text formatted after the last change, with its deflate piece,
 * is sent again as it is. Every change goes through the methods below,
 * which is what lets the text know it is out of date.
 */
import { Counter, Histogram, Registry } from "prom-client";
import type { ApiErrorCode } from "./athena/errors.js";
import { freshText, keptPromise, type Precompressed } from "./exposition/gzip-body.js";
import { registryText } from "./exposition/registry-text.js";
import { promOptions, selfFamily } from "./self-family.js";

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
  readonly #requests = new Counter(promOptions(API_REQUESTS_TOTAL, this.#registry));
  readonly #failures = new Counter(promOptions(API_REQUEST_FAILURES_TOTAL, this.#registry));
  readonly #throttles = new Counter(promOptions(API_THROTTLED_ATTEMPTS_TOTAL, this.#registry));
  readonly #duration = new Histogram(promOptions(API_REQUEST_DURATION_SECONDS, this.#registry));
  /** Bumped by every change to a value: the kept text stands while it is the same. */
  #version = 0;
  #kept: { readonly version: number; readonly text: () => Promise<Precompressed> } | undefined;

  /** Creates zero-valued series so that the first failure of each kind is visible to increase(). */
  initialise(operations: readonly ApiOperation[], errors: readonly ApiErrorCode[]): void {
    for (const operation of operations) {
      this.#requests.inc({ operation }, 0);
      this.#throttles.inc({ operation }, 0);
      for (const error of errors) this.#failures.inc({ operation, error }, 0);
    }
    this.#version++;
  }

  /** A call is sent: counted now; the returned function observes its duration when it ends. */
  started(operation: ApiOperation): () => void {
    this.#requests.inc({ operation });
    this.#version++;
    const stop = this.#duration.startTimer({ operation });
    return () => {
      stop();
      this.#version++;
    };
  }

  failed(operation: ApiOperation, error: ApiErrorCode): void {
    this.#failures.inc({ operation, error });
    this.#version++;
  }

  /** One HTTP attempt throttled, retried or not; `operation` is the SDK command's name. */
  throttled(operation: string): void {
    this.#throttles.inc({ operation });
    this.#version++;
  }

  /** The families in the text format, formatted again only when a value changed since the last call. */
  text(): Promise<Precompressed> {
    const version = this.#version;
    // Kept under the version read before formatting: a change made meanwhile makes the next call format
    // again. keptPromise forgets a formatting that failed, so the next scrape tries again.
    if (this.#kept?.version !== version) {
      this.#kept = { version, text: keptPromise(async () => freshText(Buffer.from(await registryText(this.#registry), "utf8"))) };
    }
    return this.#kept.text();
  }
}
