import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { AthenaApiFactory } from "./athena/client.js";
import { CalculationCache } from "./calculations/cache.js";
import { CalculationExposition } from "./calculations/exposition.js";
import type { Clock } from "./clock.js";
import type { DiscoveryConfig, ExporterConfig } from "./config/config.js";
import { Discoverer, type Discovered } from "./calculations/discovery.js";
import { FinishTally } from "./calculations/finish-tally.js";
import { FinishedCounters } from "./calculations/finished-counters.js";
import { TargetMetrics } from "./self-metrics.js";
import { owns, type Shard } from "./shard.js";
import { SwappableAthenaApi } from "./athena/swappable-api.js";

/** What a target is built from, besides its configuration. */
export interface TargetDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** This replica's part of the work. */
  readonly shard: Shard;
  /** From AWS settings to the Athena API (the SDK's in production). */
  readonly athenaApis: AthenaApiFactory;
}

interface Tracked {
  readonly discovered: readonly string[];
  readonly listed: readonly string[];
  readonly ids: readonly string[];
}

/**
 * One Athena account and region being watched: its calculations, listed and
 * discovered, refreshed through the cache on each scrape and rendered by
 * the exposition, with the counters fed from what the cache learns.
 */
export class Target {
  readonly metrics = new TargetMetrics();
  readonly #counters = new FinishedCounters();
  readonly #api: SwappableAthenaApi;
  readonly #cache: CalculationCache;
  readonly #exposition = new CalculationExposition();
  /** What the cache holds at most, fixed at start: the bound on what is tracked. */
  readonly #capacity: number;
  #config: ExporterConfig;
  #discoverer: Discoverer | undefined;
  #discovered: readonly string[] = [];
  #tracked: Tracked = { discovered: [], listed: [], ids: [] };
  #mine: { listed: readonly string[]; ids: readonly string[] } = { listed: [], ids: [] };
  #leftOut = 0;

  constructor(
    config: ExporterConfig,
    private readonly deps: TargetDeps,
  ) {
    this.#config = config;
    this.#capacity = config.cache.maxEntries;
    this.metrics.shardOrdinal.set(deps.shard.ordinal);
    this.metrics.totalShards.set(deps.shard.total);
    this.#api = new SwappableAthenaApi(deps.athenaApis(config.aws, this.metrics));
    const tally = new FinishTally(this.#counters, deps.clock.now() / 1000, config.cache.maxEntries);
    this.#cache = new CalculationCache(
      this.#api,
      {
        refreshed: (calculation, workgroup) => tally.observe(calculation, workgroup),
        settled: (calculation, workgroup) => this.#exposition.settle(calculation, workgroup),
        dropped: (id) => this.#exposition.drop(id),
      },
      {
        ttlMs: config.cache.ttlMs,
        maxEntries: config.cache.maxEntries,
        logger: deps.logger,
        now: deps.clock.now,
        manualClock: deps.clock.manual,
      },
    );
    this.#startDiscovery(config.discovery);
  }

  get config(): ExporterConfig {
    return this.#config;
  }

  get cache(): CalculationCache {
    return this.#cache;
  }

  /**
   * This shard's listed IDs, then the IDs its discovery found (newest first)
   * as far as the cache holds them, each once; recomputed only when one of
   * the two changed. Calculations that stop being tracked are dropped from
   * the cache then, and only they. A listed ID belongs to the shard its own
   * hash names; discovery only lists the sessions whose hash names this
   * shard, and leaves listed IDs to their own shard.
   */
  trackedIds(): readonly string[] {
    const discovered = this.#discovered;
    const listed = this.#listedIds();
    if (discovered === this.#tracked.discovered && listed === this.#tracked.listed) return this.#tracked.ids;
    const ids = new Set(listed);
    const everyListed = new Set(this.#config.calculations);
    let leftOut = 0;
    for (const id of discovered) {
      if (everyListed.has(id) || ids.has(id)) continue;
      if (ids.size < this.#capacity) ids.add(id);
      else leftOut++;
    }
    for (const id of this.#tracked.ids) if (!ids.has(id)) this.#cache.forget(id);
    this.#tracked = { discovered, listed, ids: [...ids] };
    this.#noteLeftOut(leftOut);
    return this.#tracked.ids;
  }

  #noteLeftOut(leftOut: number): void {
    this.metrics.calculationsLeftOut.set(leftOut);
    // Logged when it starts and when it ends, not on every change.
    if (leftOut > 0 && this.#leftOut === 0) {
      this.deps.logger.warn(
        { left_out: leftOut, max_entries: this.#capacity },
        "discovery found more calculations than cache.maxEntries holds; the newest are watched, the rest left out (athena_exporter_calculations_left_out)",
      );
    } else if (leftOut === 0 && this.#leftOut > 0) {
      this.deps.logger.info({ max_entries: this.#capacity }, "every discovered calculation fits in cache.maxEntries again");
    }
    this.#leftOut = leftOut;
  }

  #listedIds(): readonly string[] {
    const listed = this.#config.calculations;
    if (listed !== this.#mine.listed) this.#mine = { listed, ids: listed.filter((id) => owns(this.deps.shard, id)) };
    return this.#mine.ids;
  }

  /**
   * Applies a new configuration at once. Only what changed changes: every
   * calculation still tracked (listed or discovered) keeps its cache entry
   * and text, and discovery keeps what it found; calculations no longer
   * tracked are dropped. `cache.maxEntries` alone needs a restart.
   */
  reconfigure(next: ExporterConfig): void {
    const previous = this.#config;
    this.#config = next;
    if (!isDeepStrictEqual(previous.aws, next.aws)) this.#api.target = this.deps.athenaApis(next.aws, this.metrics);
    if (previous.cache.ttlMs !== next.cache.ttlMs) this.#cache.setTtl(next.cache.ttlMs);
    if (previous.cache.maxEntries !== next.cache.maxEntries) {
      this.deps.logger.warn(
        { from: previous.cache.maxEntries, to: next.cache.maxEntries },
        "cache.maxEntries takes effect at the next restart",
      );
    }
    if (!isDeepStrictEqual(previous.discovery, next.discovery)) {
      if (next.discovery === undefined) {
        void this.#discoverer?.stop();
        this.#discoverer = undefined;
        this.#discovered = [];
        this.metrics.discoveredCalculations.set(0);
      } else if (this.#discoverer === undefined) {
        this.#startDiscovery(next.discovery);
      } else {
        this.#discoverer.reconfigure(next.discovery);
      }
    }
    this.trackedIds();
  }

  /**
   * The full body of this target's /metrics, in chunks to write one after
   * the other. Never throws: Athena failures become samples, and the
   * refresh stops waiting at `deadline`.
   */
  async scrape(deadline: AbortSignal): Promise<Buffer[]> {
    const stop = this.metrics.scrapeDuration.startTimer();
    const ids = this.trackedIds();
    this.metrics.calculationsTracked.set(ids.length);
    const { hits, misses } = await this.#cache.refresh(ids, deadline);
    this.metrics.cacheHits.inc(hits);
    this.metrics.cacheMisses.inc(misses);
    const calculations = this.#exposition.render(ids, (id) => this.#cache.peek(id), this.deps.clock.now() / 1000);
    const counters = Buffer.from(this.#counters.expose(), "utf8");
    stop();
    return [...calculations, counters, Buffer.from(await this.metrics.registry.metrics(), "utf8")];
  }

  async close(): Promise<void> {
    await this.#discoverer?.stop();
  }

  /** Applies what a discovery run found: the IDs to track, session workgroups, and states that moved on. */
  #applyDiscovered(found: Discovered): void {
    for (const [sessionId, workgroup] of found.sessionWorkgroups) this.#cache.knowWorkgroup(sessionId, workgroup);
    for (const [id, state] of found.changed) {
      const held = this.#cache.peek(id);
      if (held?.state !== undefined && held.state !== state) this.#cache.expire(id);
    }
    this.#discovered = found.ids;
  }

  #startDiscovery(discovery: DiscoveryConfig | undefined): void {
    if (discovery === undefined) return;
    this.#discoverer = new Discoverer(
      this.#api,
      discovery,
      this.metrics,
      this.deps.logger,
      (found) => this.#applyDiscovered(found),
      (sessionId) => owns(this.deps.shard, sessionId),
      this.deps.clock.now,
    );
    this.#discoverer.start();
  }
}
