import type { Logger } from "pino";
import { SdkAthenaApi, createAthenaClient, type AthenaApi, type AthenaClientOptions } from "./athena-client.js";
import { CalculationStore } from "./calculation-store.js";
import type { ExporterConfig } from "./config.js";
import { Discoverer } from "./discovery.js";
import { FinishedCounters } from "./finished-counters.js";
import { SelfMetrics } from "./self-metrics.js";

export interface ExporterOptions extends AthenaClientOptions {
  readonly logger: Logger;
  /** Replaces the SDK-backed API; for unit tests of the wiring only. */
  readonly api?: AthenaApi;
  readonly now?: () => number;
}

/** One scrape's worth of work: refresh through the cache, then render. */
export class Exporter {
  readonly metrics = new SelfMetrics();
  readonly #counters = new FinishedCounters();
  readonly #store: CalculationStore;
  readonly #discoverer: Discoverer | undefined;
  #tracked: { discovered: readonly string[]; ids: readonly string[] } = { discovered: [], ids: [] };

  constructor(
    readonly config: ExporterConfig,
    options: ExporterOptions,
  ) {
    const api = options.api ?? new SdkAthenaApi(createAthenaClient(config.aws, options), this.metrics, config.aws);
    this.#store = new CalculationStore(api, this.#counters, this.metrics, {
      ttlMs: config.cache.ttlMs,
      maxEntries: config.cache.maxEntries,
      logger: options.logger,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    this.#tracked = { discovered: [], ids: config.calculations };
    if (config.discovery !== undefined) {
      this.#discoverer = new Discoverer(api, this.#store, config.discovery, this.metrics, options.logger, options.now);
      this.#discoverer.start();
    }
  }

  get store(): CalculationStore {
    return this.#store;
  }

  /** Listed and discovered IDs, each once; recomputed only when discovery found something new. */
  trackedIds(): readonly string[] {
    const discovered = this.#discoverer?.ids() ?? [];
    if (discovered !== this.#tracked.discovered) {
      const ids = new Set(this.config.calculations);
      for (const id of discovered) ids.add(id);
      this.#tracked = { discovered, ids: [...ids] };
    }
    return this.#tracked.ids;
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

  /** The body as text, for tests and tools. */
  async scrapeText(deadline: AbortSignal): Promise<string> {
    return Buffer.concat(await this.scrape(deadline)).toString("utf8");
  }

  async close(): Promise<void> {
    await this.#discoverer?.stop();
  }
}
