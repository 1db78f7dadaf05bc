import type { Logger } from "pino";
import type { AthenaApi } from "../athena/client.js";
import type { DiscoveryConfig } from "../config/config.js";
import type { TargetMetrics } from "../self/metrics.js";
import { listOnce, type Problem } from "./list-once.js";
import { DiscoveryMemory, type Discovered, type Retention } from "./memory.js";

export type { Discovered } from "./memory.js";

/** What one discovery run did, for the status page. */
export interface DiscoveryRun {
  /** Unix seconds when it started. */
  readonly at: number;
  readonly durationSeconds: number;
  /** A list call failed: what was known before stays. */
  readonly failed: boolean;
  readonly calculations: number;
}

/**
 * Discovery of one target: runs a listing, keeps what it found, and reports
 * on it (the discovery metrics, and each problem logged once until it
 * clears). It returns what is to be tracked; the target applies it.
 */
export class Discovery {
  readonly #memory = new DiscoveryMemory();
  /** The problems of the last run, by scope: a problem is logged when it appears or its code changes. */
  #problems = new Map<string, string>();
  #lastRun: DiscoveryRun | undefined;

  constructor(
    private readonly metrics: TargetMetrics,
    private readonly logger: Logger,
    /** Whether this replica's shard owns a session. */
    private readonly owns: (sessionId: string) => boolean,
  ) {}

  /** The last finished run; undefined before the first. */
  get lastRun(): DiscoveryRun | undefined {
    return this.#lastRun;
  }

  /**
   * One listing with `config`, applied to what is known under the settings
   * in force when it ends (a reload may come meanwhile); undefined when
   * `signal` cut it short.
   */
  async run(
    api: AthenaApi,
    config: DiscoveryConfig,
    settings: () => DiscoveryConfig | undefined,
    nowSeconds: number,
    signal: AbortSignal,
  ): Promise<Discovered | undefined> {
    const stop = this.metrics.discoveryDuration.startTimer();
    const listing = await listOnce(
      api,
      {
        workgroups: config.workgroups,
        workgroupTags: config.workgroupTags,
        lookbackSeconds: config.lookbackMs / 1000,
        owns: this.owns,
        nowSeconds,
      },
      this.#memory.known(),
      signal,
    );
    if (listing.aborted) return undefined;
    const found = this.#memory.apply(listing, nowSeconds, retentionOf(settings() ?? config));
    this.#report(listing.problems);
    const failed = listing.problems.some((p) => p.failed);
    this.metrics.discoveredCalculations.set(found.ids.length);
    if (failed) this.metrics.discoveryFailures.inc();
    else this.metrics.discoveryLastSuccess.set(nowSeconds);
    this.#lastRun = { at: nowSeconds, durationSeconds: stop(), failed, calculations: found.ids.length };
    return found;
  }

  /** Takes new settings without forgetting what was found in workgroups still discovered. */
  reconfigure(config: DiscoveryConfig, nowSeconds: number): Discovered {
    const found = this.#memory.reconfigure(nowSeconds, retentionOf(config));
    this.metrics.discoveredCalculations.set(found.ids.length);
    return found;
  }

  #report(problems: readonly Problem[]): void {
    const now = new Map<string, string>();
    for (const problem of problems) {
      now.set(problem.scope, problem.code);
      if (this.#problems.get(problem.scope) === problem.code) continue;
      this.logger.warn(
        { call: problem.scope, error: problem.code, reason: problem.reason },
        problem.failed ? "discovery: a call failed" : "discovery: a call failed; carrying on without it",
      );
    }
    for (const scope of this.#problems.keys()) {
      if (!now.has(scope)) this.logger.info({ call: scope }, "discovery: the call works again");
    }
    this.#problems = now;
  }
}

function retentionOf(config: DiscoveryConfig): Retention {
  return { workgroups: config.workgroups, retentionSeconds: config.retentionMs / 1000 };
}
