import { collectDefaultMetrics, Registry } from "prom-client";
import { promMetric, selfFamily, type SelfFamilySpec } from "../exposition/self-family.js";
import {
  API_REQUEST_DURATION_SECONDS,
  API_REQUEST_FAILURES_TOTAL,
  API_REQUESTS_TOTAL,
  API_THROTTLED_ATTEMPTS_TOTAL,
  ApiMetrics,
} from "../athena/api-metrics.js";
import { VERSION } from "../version.js";
import { EVENT_LOOP_FAMILY_NAMES, registerEventLoopDelay } from "./event-loop-delay.js";

export const CONFIG_LAST_RELOAD_SUCCESSFUL = selfFamily({
  name: "athena_exporter_config_last_reload_successful",
  type: "gauge",
  help: "1 when the last configuration reload succeeded (or none was tried), 0 when it failed and the previous configuration is still in use.",
  doc: "1 when the last reload succeeded (or none was tried), 0 when it failed and the previous configuration still serves",
  labelNames: [],
});

export const CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS = selfFamily({
  name: "athena_exporter_config_last_reload_success_timestamp_seconds",
  type: "gauge",
  help: "When the configuration in use was loaded, in Unix seconds.",
  doc: "when the configuration in use was loaded",
  labelNames: [],
});

export const CONFIG_RELOAD_FAILURES_TOTAL = selfFamily({
  name: "athena_exporter_config_reload_failures_total",
  type: "counter",
  help: "Configuration reloads refused because the new file was unreadable or invalid.",
  doc: "reloads refused for an unreadable or invalid file",
  labelNames: [],
});

export const TARGET_INFO = selfFamily({
  name: "athena_exporter_target_info",
  type: "gauge",
  help: "Each configured target, to scrape as /metrics?target=NAME, with its region and account; value is always 1.",
  doc: "always 1, one per configured target (only at `/metrics` with named targets)",
  labelNames: ["target", "aws_region", "aws_account_id"],
});

export const BUILD_INFO = selfFamily({
  name: "athena_exporter_build_info",
  type: "gauge",
  help: "The exporter's version and the Node.js running it; value is always 1.",
  doc: "always 1",
  labelNames: ["version", "nodejs_version"],
});

export const CACHE_HITS_TOTAL = selfFamily({
  name: "athena_exporter_cache_hits_total",
  type: "counter",
  help: "Calculation and session lookups answered from the cache or by joining a request already in flight.",
  doc: "calculation and session lookups answered from the cache or by joining a request in flight",
  labelNames: [],
});

export const CACHE_MISSES_TOTAL = selfFamily({
  name: "athena_exporter_cache_misses_total",
  type: "counter",
  help: "Calculation and session lookups that needed a call to Athena (absent or expired entries).",
  doc: "calculation and session lookups that needed a call to Athena",
  labelNames: [],
});

export const SCRAPE_DURATION_SECONDS = selfFamily({
  name: "athena_exporter_scrape_duration_seconds",
  type: "histogram",
  help: "Time taken to answer a /metrics request.",
  doc: "time to answer `/metrics`",
  labelNames: [],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

export const CALCULATIONS_TRACKED = selfFamily({
  name: "athena_exporter_calculations_tracked",
  type: "gauge",
  help: "Calculation executions the exporter is watching.",
  doc: "calculation executions watched, listed and discovered",
  labelNames: [],
});

export const DISCOVERY_DURATION_SECONDS = selfFamily({
  name: "athena_exporter_discovery_duration_seconds",
  type: "gauge",
  help: "Time the last discovery run took to list workgroups, sessions and calculations.",
  doc: "time the last discovery run took",
  labelNames: [],
});

export const DISCOVERY_FAILURES_TOTAL = selfFamily({
  name: "athena_exporter_discovery_failures_total",
  type: "counter",
  help: "Discovery runs in which some list call failed (what was known before stays).",
  doc: "discovery runs in which a list call failed",
  labelNames: [],
});

export const DISCOVERY_LAST_SUCCESS_TIMESTAMP_SECONDS = selfFamily({
  name: "athena_exporter_discovery_last_success_timestamp_seconds",
  type: "gauge",
  help: "When discovery last listed everything without an error, in Unix seconds.",
  doc: "when discovery last listed everything without error",
  labelNames: [],
});

export const CALCULATIONS_DISCOVERED = selfFamily({
  name: "athena_exporter_calculations_discovered",
  type: "gauge",
  help: "Calculations found by discovery and still within their retention.",
  doc: "calculations found by discovery and within their retention",
  labelNames: [],
});

export const CALCULATIONS_LEFT_OUT = selfFamily({
  name: "athena_exporter_calculations_left_out",
  type: "gauge",
  help: "Calculations found by discovery but not watched because cache.maxEntries is full (the newest are watched).",
  doc: "calculations discovery found beyond what `cache.maxEntries` holds, so not watched (the newest are watched)",
  labelNames: [],
});

export const SHARD_ORDINAL = selfFamily({
  name: "athena_exporter_shard_ordinal",
  type: "gauge",
  help: "This replica's shard (--shard), from 0.",
  doc: "this replica's `--shard`",
  labelNames: [],
});

export const TOTAL_SHARDS = selfFamily({
  name: "athena_exporter_total_shards",
  type: "gauge",
  help: "Replicas splitting the calculations between them (--total-shards).",
  doc: "`--total-shards`",
  labelNames: [],
});

/** ProcessMetrics' own families (prom-client's process_* and nodejs_* defaults aside), in the order of README's table. */
export const PROCESS_FAMILIES: readonly SelfFamilySpec[] = [
  CONFIG_LAST_RELOAD_SUCCESSFUL,
  CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
  CONFIG_RELOAD_FAILURES_TOTAL,
  TARGET_INFO,
  BUILD_INFO,
];

/** TargetMetrics' families, in the order of README's table. */
export const SELF_FAMILIES: readonly SelfFamilySpec[] = [
  API_REQUESTS_TOTAL,
  API_REQUEST_FAILURES_TOTAL,
  API_THROTTLED_ATTEMPTS_TOTAL,
  API_REQUEST_DURATION_SECONDS,
  CACHE_HITS_TOTAL,
  CACHE_MISSES_TOTAL,
  SCRAPE_DURATION_SECONDS,
  CALCULATIONS_TRACKED,
  CALCULATIONS_DISCOVERED,
  CALCULATIONS_LEFT_OUT,
  DISCOVERY_DURATION_SECONDS,
  DISCOVERY_FAILURES_TOTAL,
  DISCOVERY_LAST_SUCCESS_TIMESTAMP_SECONDS,
  SHARD_ORDINAL,
  TOTAL_SHARDS,
];

/**
 * What the whole process reports once, whatever its targets: the build,
 * the configuration's reloads, and prom-client's process metrics.
 */
export class ProcessMetrics {
  readonly registry = new Registry();

  readonly configReloadSuccessful = promMetric(CONFIG_LAST_RELOAD_SUCCESSFUL, this.registry);

  readonly configReloadTimestamp = promMetric(CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS, this.registry);

  readonly configReloadFailures = promMetric(CONFIG_RELOAD_FAILURES_TOTAL, this.registry);

  readonly targetInfo = promMetric(TARGET_INFO, this.registry);

  /**
   * Why the last reload was refused and when (Unix seconds), while the gauge
   * above is 0: the status page says why, not only that it failed.
   */
  lastReloadFailure: { readonly reason: string; readonly at: number } | undefined;

  readonly #stopEventLoopDelay: () => void;

  constructor() {
    this.configReloadSuccessful.set(1);
    this.configReloadTimestamp.set(Date.now() / 1000);
    promMetric(BUILD_INFO, this.registry).set({ version: VERSION, nodejs_version: process.version }, 1);
    // Its event-loop monitor cannot be left out, only slowed: event-loop-delay.ts samples instead, and
    // removing prom-client's families below does not stop the monitor's timer, which would tick every 10 ms.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 2 ** 31 - 1 });
    // These gauges end in _total, which breaks the naming rules (promtool
    // check metrics flags them); the process_* metrics cover the same ground.
    for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
      this.registry.removeSingleMetric(name);
    }
    // The same families, measured without walking Node's histogram on every scrape (event-loop-delay.ts).
    for (const name of EVENT_LOOP_FAMILY_NAMES) this.registry.removeSingleMetric(name);
    this.#stopEventLoopDelay = registerEventLoopDelay(this.registry);
  }

  /** Stops sampling the event loop (it does not keep the process alive either way). */
  close(): void {
    this.#stopEventLoopDelay();
  }
}

/**
 * One target's health, in prom-client. Each exporter builds its own
 * registry so that several can run in one process (targets, tests).
 */
export class TargetMetrics {
  readonly registry = new Registry();

  /** The Athena API families, in a registry of their own (athena/api-metrics.ts). */
  readonly api = new ApiMetrics();

  readonly cacheHits = promMetric(CACHE_HITS_TOTAL, this.registry);

  readonly cacheMisses = promMetric(CACHE_MISSES_TOTAL, this.registry);

  readonly scrapeDuration = promMetric(SCRAPE_DURATION_SECONDS, this.registry);

  readonly calculationsTracked = promMetric(CALCULATIONS_TRACKED, this.registry);

  readonly discoveryDuration = promMetric(DISCOVERY_DURATION_SECONDS, this.registry);

  readonly discoveryFailures = promMetric(DISCOVERY_FAILURES_TOTAL, this.registry);

  readonly discoveryLastSuccess = promMetric(DISCOVERY_LAST_SUCCESS_TIMESTAMP_SECONDS, this.registry);

  readonly discoveredCalculations = promMetric(CALCULATIONS_DISCOVERED, this.registry);

  readonly calculationsLeftOut = promMetric(CALCULATIONS_LEFT_OUT, this.registry);

  readonly shardOrdinal = promMetric(SHARD_ORDINAL, this.registry);

  readonly totalShards = promMetric(TOTAL_SHARDS, this.registry);
}
