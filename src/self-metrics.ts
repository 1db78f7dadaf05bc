import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ApiErrorCode } from "./athena-errors.js";
import { VERSION } from "./version.js";

export const API_OPERATIONS = [
  "GetCalculationExecution",
  "GetSession",
  "ListWorkGroups",
  "ListSessions",
  "ListCalculationExecutions",
] as const;
export type ApiOperation = (typeof API_OPERATIONS)[number];

/**
 * What the whole process reports once, whatever its targets: the build,
 * the configuration's reloads, and prom-client's process metrics.
 */
export class ProcessMetrics {
  readonly registry = new Registry();

  readonly configReloadSuccessful = new Gauge({
    name: "athena_exporter_config_last_reload_successful",
    help: "1 when the last configuration reload succeeded (or none was tried), 0 when it failed and the previous configuration is still in use.",
    registers: [this.registry],
  });

  readonly configReloadTimestamp = new Gauge({
    name: "athena_exporter_config_last_reload_success_timestamp_seconds",
    help: "When the configuration in use was loaded, in Unix seconds.",
    registers: [this.registry],
  });

  readonly configReloadFailures = new Counter({
    name: "athena_exporter_config_reload_failures_total",
    help: "Configuration reloads refused because the new file was unreadable or invalid.",
    registers: [this.registry],
  });

  readonly targetInfo = new Gauge({
    name: "athena_exporter_target_info",
    help: "Each configured target, to scrape as /metrics?target=NAME, with its region and account; value is always 1.",
    labelNames: ["target", "aws_region", "aws_account_id"] as const,
    registers: [this.registry],
  });

  constructor() {
    this.configReloadSuccessful.set(1);
    this.configReloadTimestamp.set(Date.now() / 1000);
    new Gauge({
      name: "athena_exporter_build_info",
      help: "The exporter's version and the Node.js running it; value is always 1.",
      labelNames: ["version", "nodejs_version"] as const,
      registers: [this.registry],
    }).set({ version: VERSION, nodejs_version: process.version }, 1);
    collectDefaultMetrics({ register: this.registry });
    // These gauges end in _total, which breaks the naming rules (promtool
    // check metrics flags them); the process_* metrics cover the same ground.
    for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
      this.registry.removeSingleMetric(name);
    }
  }
}

/**
 * One target's health, in prom-client. Each exporter builds its own
 * registry so that several can run in one process (targets, tests).
 */
export class SelfMetrics {
  readonly registry = new Registry();

  readonly apiRequests = new Counter({
    name: "athena_exporter_api_requests_total",
    help: "Requests made to the Athena API, by operation (SDK retries included in one request).",
    labelNames: ["operation"] as const,
    registers: [this.registry],
  });

  readonly apiFailures = new Counter({
    name: "athena_exporter_api_request_failures_total",
    help: "Athena API requests that failed, by operation and error code.",
    labelNames: ["operation", "error"] as const,
    registers: [this.registry],
  });

  readonly apiThrottles = new Counter({
    name: "athena_exporter_api_throttled_attempts_total",
    help: "HTTP attempts Athena answered with a throttling error, by operation, including those a retry then hid.",
    labelNames: ["operation"] as const,
    registers: [this.registry],
  });

  readonly apiDuration = new Histogram({
    name: "athena_exporter_api_request_duration_seconds",
    help: "Latency of Athena API requests, retries included.",
    labelNames: ["operation"] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly cacheHits = new Counter({
    name: "athena_exporter_cache_hits_total",
    help: "Calculation lookups answered from the cache or by joining a request already in flight.",
    registers: [this.registry],
  });

  readonly cacheMisses = new Counter({
    name: "athena_exporter_cache_misses_total",
    help: "Calculation lookups that needed a call to Athena (absent or expired entries).",
    registers: [this.registry],
  });

  readonly scrapeDuration = new Histogram({
    name: "athena_exporter_scrape_duration_seconds",
    help: "Time taken to answer a /metrics request.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly calculationsTracked = new Gauge({
    name: "athena_exporter_calculations_tracked",
    help: "Calculation executions the exporter is watching.",
    registers: [this.registry],
  });

  readonly discoveryDuration = new Gauge({
    name: "athena_exporter_discovery_duration_seconds",
    help: "Time the last discovery run took to list workgroups, sessions and calculations.",
    registers: [this.registry],
  });

  readonly discoveryFailures = new Counter({
    name: "athena_exporter_discovery_failures_total",
    help: "Discovery runs in which some list call failed (what was known before stays).",
    registers: [this.registry],
  });

  readonly discoveryLastSuccess = new Gauge({
    name: "athena_exporter_discovery_last_success_timestamp_seconds",
    help: "When discovery last listed everything without an error, in Unix seconds.",
    registers: [this.registry],
  });

  readonly discoveredCalculations = new Gauge({
    name: "athena_exporter_calculations_discovered",
    help: "Calculations found by discovery and still within their retention.",
    registers: [this.registry],
  });

  readonly calculationsLeftOut = new Gauge({
    name: "athena_exporter_calculations_left_out",
    help: "Calculations found by discovery but not watched because cache.maxEntries is full (the newest are watched).",
    registers: [this.registry],
  });

  readonly shardOrdinal = new Gauge({
    name: "athena_exporter_shard_ordinal",
    help: "This replica's shard (--shard), from 0.",
    registers: [this.registry],
  });

  readonly totalShards = new Gauge({
    name: "athena_exporter_total_shards",
    help: "Replicas splitting the calculations between them (--total-shards).",
    registers: [this.registry],
  });


  /** Creates zero-valued series so that the first failure of each kind is visible to increase(). */
  initialise(operations: readonly ApiOperation[], errors: readonly ApiErrorCode[]): void {
    for (const operation of operations) {
      this.apiRequests.inc({ operation }, 0);
      this.apiThrottles.inc({ operation }, 0);
      for (const error of errors) this.apiFailures.inc({ operation, error }, 0);
    }
  }
}
