import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { ApiSwitch } from "./api-switch.js";
import { SdkAthenaApi, createAthenaClient, type AthenaApi, type AthenaClientOptions } from "./athena-client.js";
import { CalculationStore } from "./calculation-store.js";
import type { ExporterConfig } from "./config.js";
import { Discoverer } from "./discovery.js";
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

/** One scrape's worth of work: refresh through the cache, then render. */
export class Exporter {
  readonly metrics = new SelfMetrics();
  readonly #counters = new FinishedCounters();
  readonly #api: ApiSwitch;
  readonly #store: CalculationStore;
  #config: ExporterConfig;
  #discoverer: Discoverer | undefined;
  #tracked: { discovered: readonly string[]; listed: readonly string[]; ids: readonly string[] } = { discovered: [], listed: [], ids: [] };
  #mine: { listed: readonly string[]; ids: readonly string[] } = { listed: [], ids: [] };
  readonly #shard: Shard;

  constructor(
    config: ExporterConfig,
    private readonly options: ExporterOptions,
  ) {
    this.#config = config;
    this.#shard = options.shard ?? SINGLE_SHARD;
    this.metrics.shardOrdinal.set(this.#shard.ordinal);
    this.metrics.totalShards.set(this.#shard.total);
    this.#api = new ApiSwitch(this.#newApi(config));
    this.#store = new CalculationStore(this.#api, this.#counters, this.metrics, {
      ttlMs: config.cache.ttlMs,
      maxEntries: config.cache.maxEntries,
      logger: options.logger,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    this.#startDiscovery();
  }

  get config(): ExporterConfig {
    return this.#config;
  }

  get store(): CalculationStore {
    return this.#store;
  }

  /**
   * This shard's listed IDs and the IDs its discovery found, each once;
   * recomputed only when one of the two changed. A listed ID belongs to the
   * shard its own hash names; discovery only lists the sessions whose hash
   * names this shard, and leaves listed IDs to their own shard.
   */
  trackedIds(): readonly string[] {
    const discovered = this.#discoverer?.ids() ?? [];
    const listed = this.#listedIds();
    if (discovered !== this.#tracked.discovered || listed !== this.#tracked.listed) {
      const ids = new Set(listed);
      const everyListed = new Set(this.#config.calculations);
      for (const id of discovered) if (!everyListed.has(id)) ids.add(id);
      this.#tracked = { discovered, listed, ids: [...ids] };
    }
    return this.#tracked.ids;
  }

  #listedIds(): readonly string[] {
    const listed = this.#config.calculations;
    if (listed !== this.#mine.listed) this.#mine = { listed, ids: listed.filter((id) => owns(this.#shard, id)) };
    return this.#mine.ids;
  }

  /**
   * Applies a new configuration at once, keeping the cache, the counters
   * and what is known of every calculation still watched. Calculations no
   * longer watched are dropped; `cache.maxEntries` alone needs a restart.
   */
  reconfigure(next: ExporterConfig): void {
    const previous = this.#config;
    const before = new Set(this.trackedIds());
    this.#config = next;
    if (!isDeepStrictEqual(previous.aws, next.aws)) this.#api.target = this.#newApi(next);
    if (previous.cache.ttlMs !== next.cache.ttlMs) this.#store.setTtl(next.cache.ttlMs);
    if (previous.cache.maxEntries !== next.cache.maxEntries) {
      this.options.logger.warn({ from: previous.cache.maxEntries, to: next.cache.maxEntries }, "cache.maxEntries takes effect at the next restart");
    }
    if (!isDeepStrictEqual(previous.discovery, next.discovery)) {
      void this.#discoverer?.stop();
      this.#discoverer = undefined;
      this.#startDiscovery();
    }
    const kept = new Set(next.calculations);
    for (const id of before) if (!kept.has(id)) this.#store.forget(id);
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
    const counters = Buffer.from(this.#counters.render(), "utf8");
    stop();
    return [...calculations, counters, Buffer.from(await this.metrics.registry.metrics(), "utf8")];
  }

  async close(): Promise<void> {
    await this.#discoverer?.stop();
  }

  #newApi(config: ExporterConfig): AthenaApi {
    return this.options.api ?? new SdkAthenaApi(createAthenaClient(config.aws, this.options), this.metrics, config.aws);
  }

  #startDiscovery(): void {
    if (this.#config.discovery === undefined) return;
    this.#discoverer = new Discoverer(
      this.#api,
      this.#store,
      this.#config.discovery,
      this.metrics,
      this.options.logger,
      (sessionId) => owns(this.#shard, sessionId),
      this.options.now,
    );
    this.#discoverer.start();
  }
}
