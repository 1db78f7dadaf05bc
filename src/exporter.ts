import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { ApiSwitch } from "./api-switch.js";
import { SdkAthenaApi, createAthenaClient, type AthenaApi, type AthenaClientOptions } from "./athena-client.js";
import { CalculationStore } from "./calculation-store.js";
import type { DiscoveryConfig, ExporterConfig } from "./config.js";
import { Discoverer, type Discovered } from "./discovery.js";
import { FinishTally } from "./finish-tally.js";
import { FinishedCounters } from "./finished-counters.js";
import { SelfMetrics } from "./self-metrics.js";
import { SINGLE_SHARD, owns, type Shard } from "./shard.js";

export interface ExporterOptions extends AthenaClientOptions {
  readonly logger: Logger;
  /** Replaces the SDK-backed API; for unit tests of the wiring only. */
  readonly api?: AthenaApi;
  readonly now?: () => number;
  /** This replica's part of the work; all of it by default. */
  readonly shard?: Shard;
}

interface Tracked {
  readonly discovered: readonly string[];
  readonly listed: readonly string[];
  readonly ids: readonly string[];
}

/** One scrape's worth of work: refresh through the cache, then render. */
export class Exporter {
  readonly metrics = new SelfMetrics();
  readonly #counters = new FinishedCounters();
  readonly #api: ApiSwitch;
  readonly #store: CalculationStore;
  /** What the cache holds at most, fixed at start: the bound on what is tracked. */
  readonly #capacity: number;
  #config: ExporterConfig;
  #discoverer: Discoverer | undefined;
  #discovered: readonly string[] = [];
  #tracked: Tracked = { discovered: [], listed: [], ids: [] };
  #mine: { listed: readonly string[]; ids: readonly string[] } = { listed: [], ids: [] };
  #leftOut = 0;
  readonly #shard: Shard;

  constructor(
    config: ExporterConfig,
    private readonly options: ExporterOptions,
  ) {
    this.#config = config;
    this.#shard = options.shard ?? SINGLE_SHARD;
    this.#capacity = config.cache.maxEntries;
    this.metrics.shardOrdinal.set(this.#shard.ordinal);
    this.metrics.totalShards.set(this.#shard.total);
    this.#api = new ApiSwitch(this.#newApi(config));
    const now = options.now ?? Date.now;
    const tally = new FinishTally(this.#counters, now() / 1000, config.cache.maxEntries);
    this.#store = new CalculationStore(this.#api, this.metrics, {
      ttlMs: config.cache.ttlMs,
      maxEntries: config.cache.maxEntries,
      logger: options.logger,
      onRefreshed: (calculation, workgroup) => tally.observe(calculation, workgroup),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    this.#startDiscovery(config.discovery);
  }

  get config(): ExporterConfig {
    return this.#config;
  }

  get store(): CalculationStore {
    return this.#store;
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
    for (const id of this.#tracked.ids) if (!ids.has(id)) this.#store.forget(id);
    this.#tracked = { discovered, listed, ids: [...ids] };
    this.#noteLeftOut(leftOut);
    return this.#tracked.ids;
  }

  #noteLeftOut(leftOut: number): void {
    this.metrics.calculationsLeftOut.set(leftOut);
    // Logged when it starts and when it ends, not on every change.
    if (leftOut > 0 && this.#leftOut === 0) {
      this.options.logger.warn(
        { left_out: leftOut, max_entries: this.#capacity },
        "discovery found more calculations than cache.maxEntries holds; the newest are watched, the rest left out (athena_exporter_calculations_left_out)",
      );
    } else if (leftOut === 0 && this.#leftOut > 0) {
      this.options.logger.info({ max_entries: this.#capacity }, "every discovered calculation fits in cache.maxEntries again");
    }
    this.#leftOut = leftOut;
  }

  #listedIds(): readonly string[] {
    const listed = this.#config.calculations;
    if (listed !== this.#mine.listed) this.#mine = { listed, ids: listed.filter((id) => owns(this.#shard, id)) };
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
    if (!isDeepStrictEqual(previous.aws, next.aws)) this.#api.target = this.#newApi(next);
    if (previous.cache.ttlMs !== next.cache.ttlMs) this.#store.setTtl(next.cache.ttlMs);
    if (previous.cache.maxEntries !== next.cache.maxEntries) {
      this.options.logger.warn(
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
   * The full /metrics body, in chunks to write one after the other. Never
   * throws: Athena failures become samples, and the refresh stops waiting
   * at `deadline`.
   */
  async scrape(deadline: AbortSignal): Promise<Buffer[]> {
    const stop = this.metrics.scrapeDuration.startTimer();
    const ids = this.trackedIds();
    this.metrics.calculationsTracked.set(ids.length);
    await this.#store.refresh(ids, deadline);
    const calculations = this.#store.render(ids);
    const counters = Buffer.from(this.#counters.expose(), "utf8");
    stop();
    return [...calculations, counters, Buffer.from(await this.metrics.registry.metrics(), "utf8")];
  }

  async close(): Promise<void> {
    await this.#discoverer?.stop();
  }

  #newApi(config: ExporterConfig): AthenaApi {
    return this.options.api ?? new SdkAthenaApi(createAthenaClient(config.aws, this.options), this.metrics, config.aws);
  }

  /** Applies what a discovery run found: the IDs to track, session workgroups, and states that moved on. */
  #applyDiscovered(found: Discovered): void {
    for (const [sessionId, workgroup] of found.sessionWorkgroups) this.#store.knowWorkgroup(sessionId, workgroup);
    for (const [id, state] of found.changed) {
      const held = this.#store.peek(id);
      if (held?.state !== undefined && held.state !== state) this.#store.expire(id);
    }
    this.#discovered = found.ids;
  }

  #startDiscovery(discovery: DiscoveryConfig | undefined): void {
    if (discovery === undefined) return;
    this.#discoverer = new Discoverer(
      this.#api,
      discovery,
      this.metrics,
      this.options.logger,
      (found) => this.#applyDiscovered(found),
      (sessionId) => owns(this.#shard, sessionId),
      this.options.now,
    );
    this.#discoverer.start();
  }
}
