import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { AthenaApiFactory } from "./athena/client.js";
import { CalculationCache } from "./calculations/cache.js";
import { CalculationExposition } from "./calculations/exposition.js";
import type { Clock } from "./clock.js";
import type { DiscoveryConfig, ExporterConfig } from "./config/config.js";
import { Discoverer, type Discovered, type DiscoveryRun } from "./discovery.js";
import type { WorkGroupSummary } from "./sessions/session.js";
import type { BodyPart } from "./exposition/gzip-body.js";
import { hiddenFamilies } from "./exposition/family-filter.js";
import { registryText } from "./exposition/registry-text.js";
import { err, ok, type Result } from "./result.js";
import type { ApiError } from "./athena/errors.js";
import { SessionCache, type SessionEntry } from "./sessions/cache.js";
import { SessionDpuCounter } from "./sessions/dpu-counter.js";
import { SessionExposition } from "./sessions/exposition.js";
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

/** One empty list, so that kept session text sees the same tag keys on every scrape. */
const NO_TAGS: readonly string[] = [];

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
  readonly #sessions: SessionCache;
  readonly #sessionDpu: SessionDpuCounter;
  readonly #sessionExposition = new SessionExposition();
  /** The session of each calculation the cache has answered for, to watch the sessions of listed calculations. */
  readonly #sessionOf = new Map<string, string>();
  #sessionIds: { readonly discovered: readonly string[]; readonly calculations: number; readonly ids: readonly string[] } = {
    discovered: [],
    calculations: -1,
    ids: [],
  };
  #sessionOfVersion = 0;
  #discoveredSessions: readonly string[] = [];
  #discoveredWorkgroups: ReadonlyMap<string, string> = new Map();
  #workgroups: readonly WorkGroupSummary[] = [];
  /** What the cache holds at most, fixed at start: the bound on what is tracked. */
  readonly #capacity: number;
  #config: ExporterConfig;
  /** The families metrics.allow / metrics.deny leave out, decided once per configuration. */
  #hidden: ReadonlySet<string>;
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
    this.#hidden = hiddenFamilies(config.metrics);
    this.#capacity = config.cache.maxEntries;
    this.metrics.shardOrdinal.set(deps.shard.ordinal);
    this.metrics.totalShards.set(deps.shard.total);
    this.#api = new SwappableAthenaApi(deps.athenaApis(config.aws, this.metrics.api));
    const startedAt = deps.clock.now() / 1000;
    const tally = new FinishTally(this.#counters, startedAt, config.cache.maxEntries);
    this.#sessionDpu = new SessionDpuCounter(startedAt, config.cache.maxEntries);
    this.#sessions = new SessionCache(this.#api, {
      ttlMs: config.cache.ttlMs,
      maxEntries: config.cache.maxEntries,
      logger: deps.logger,
      now: deps.clock.now,
      manualClock: deps.clock.manual,
      refreshed: (session) => this.#sessionDpu.observe(session),
    });
    this.#cache = new CalculationCache(
      this.#api,
      (sessionId, signal) => this.#workgroupOf(sessionId, signal),
      {
        refreshed: (calculation, workgroup) => {
          tally.observe(calculation, workgroup);
          if (this.#sessionOf.get(calculation.id) !== calculation.sessionId) {
            this.#sessionOf.set(calculation.id, calculation.sessionId);
            this.#sessionOfVersion++;
          }
        },
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

  /** What is known of a watched session, without fetching it (the status page reads it). */
  sessionEntry(id: string): SessionEntry | undefined {
    return this.#sessions.peek(id);
  }

  /** Discovery's state for the status page: off, not yet run, or its last run. */
  discoveryStatus(): { readonly enabled: false } | { readonly enabled: true; readonly lastRun: DiscoveryRun | undefined } {
    return this.#discoverer === undefined ? { enabled: false } : { enabled: true, lastRun: this.#discoverer.lastRun };
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
    for (const id of this.#tracked.ids) {
      if (ids.has(id)) continue;
      this.#cache.forget(id);
      if (this.#sessionOf.delete(id)) this.#sessionOfVersion++;
    }
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
    this.#hidden = hiddenFamilies(next.metrics);
    if (!isDeepStrictEqual(previous.aws, next.aws)) this.#api.target = this.deps.athenaApis(next.aws, this.metrics.api);
    if (previous.cache.ttlMs !== next.cache.ttlMs) {
      this.#cache.setTtl(next.cache.ttlMs);
      this.#sessions.setTtl(next.cache.ttlMs);
    }
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
        this.#discoveredSessions = [];
        this.#discoveredWorkgroups = new Map();
        this.#workgroups = [];
        this.metrics.discoveredCalculations.set(0);
      } else if (this.#discoverer === undefined) {
        this.#startDiscovery(next.discovery);
      } else {
        this.#discoverer.reconfigure(next.discovery);
      }
    }
    this.trackedIds();
    this.trackedSessionIds();
  }

  /**
   * The sessions to watch: those discovery found (active, or ended within
   * the retention) and those of the tracked calculations; recomputed only
   * when one of the two changed. Sessions no longer watched are dropped.
   */
  trackedSessionIds(): readonly string[] {
    const discovered = this.#discoveredSessions;
    if (discovered === this.#sessionIds.discovered && this.#sessionOfVersion === this.#sessionIds.calculations) return this.#sessionIds.ids;
    const ids = new Set(discovered);
    for (const sessionId of this.#sessionOf.values()) ids.add(sessionId);
    for (const id of this.#sessionIds.ids) if (!ids.has(id)) this.#sessions.forget(id);
    this.#sessionIds = { discovered, calculations: this.#sessionOfVersion, ids: [...ids] };
    return this.#sessionIds.ids;
  }

  /**
   * The full body of this target's /metrics, in parts to write one after
   * the other (see gzip-body.ts for the two ways to write them). Never
   * throws: Athena failures become samples, and the refresh stops waiting at
   * `deadline`.
   */
  async scrape(deadline: AbortSignal): Promise<BodyPart[]> {
    const stop = this.metrics.scrapeDuration.startTimer();
    const ids = this.trackedIds();
    this.metrics.calculationsTracked.set(ids.length);
    // Sessions first: a calculation's workgroup lookup then finds its session fresh in the cache.
    // A calculation's first refresh teaches a new session, which its lookup fetches.
    const sessions = await this.#sessions.refresh(this.trackedSessionIds(), deadline);
    // A settled calculation is never fetched again: it is a hit without a cache lookup (and its promise) on every scrape.
    const unsettled = this.#exposition.unsettled(ids);
    const calculations = await this.#cache.refresh(unsettled, deadline);
    this.metrics.cacheHits.inc(calculations.hits + (ids.length - unsettled.length) + sessions.hits);
    this.metrics.cacheMisses.inc(calculations.misses + sessions.misses);
    const nowSeconds = this.deps.clock.now() / 1000;
    const hidden = this.#hidden;
    // Asked again: calculations that settled in this refresh are the arena's now.
    const body = this.#exposition.render(this.#exposition.unsettled(ids), (id) => this.#cache.peek(id), nowSeconds, hidden);
    const sessionText = this.#sessionExposition.render({
      ids: this.trackedSessionIds(),
      peek: (id) => this.#sessions.peek(id),
      workgroups: this.#workgroups,
      tagKeys: this.#config.discovery?.workgroupTags ?? NO_TAGS,
      price: this.#config.cost.dpuHourPriceUsd,
      hidden,
    });
    const counters = Buffer.from(this.#counters.expose(hidden), "utf8");
    const sessionDpu = Buffer.from(this.#sessionDpu.expose(hidden), "utf8");
    stop();
    // The API families' text is kept while no call changes it, so it comes before the text rendered for this scrape,
    // which is last and together (the process's follows): a gzip scrape sends that as one piece.
    const api = await this.metrics.api.text();
    return [...body, sessionText, api, counters, sessionDpu, Buffer.from(await registryText(this.metrics.registry), "utf8")];
  }

  /**
   * A session's workgroup, which never changes: from discovery's listing
   * when it has it, else from the session cache, whose GetSession also
   * feeds the session's own metrics.
   */
  async #workgroupOf(sessionId: string, signal: AbortSignal): Promise<Result<string, ApiError>> {
    const listed = this.#discoveredWorkgroups.get(sessionId);
    if (listed !== undefined) return ok(listed);
    const entry = this.#sessions.peek(sessionId) ?? (await this.#sessions.fetch(sessionId, signal));
    if (entry?.session !== undefined) return ok(entry.session.workgroup);
    return err(entry?.error ?? { code: "Other" as const, message: "GetSession gave no answer" });
  }

  async close(): Promise<void> {
    await this.#discoverer?.stop();
  }

  /** Applies what a discovery run found: the IDs to track, session workgroups, and states that moved on. */
  #applyDiscovered(found: Discovered): void {
    this.#discoveredWorkgroups = found.sessionWorkgroups;
    // The listing shows these ended: their final state, end time and DPU total are fetched next.
    for (const id of found.ended) this.#sessions.expire(id);
    this.#discoveredSessions = found.sessions;
    this.#workgroups = found.workgroups;
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
