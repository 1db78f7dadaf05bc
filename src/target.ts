import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { AthenaApiFactory } from "./athena/client.js";
import { calculationCache, type CalculationCache, type CalculationEntry } from "./calculations/cache.js";
import { CalculationExposition } from "./calculations/exposition.js";
import type { Clock } from "./clock.js";
import type { ExporterConfig } from "./config/config.js";
import { Discovery, type Discovered, type DiscoveryRun } from "./discovery/discovery.js";
import { Repeater } from "./discovery/repeater.js";
import type { WorkGroupSummary } from "./athena/session.js";
import type { BodyPart } from "./exposition/gzip-body.js";
import { hiddenFamilies } from "./catalog/family-filter.js";
import { registryText } from "./exposition/registry-text.js";
import { sessionCache, type SessionCache, type SessionEntry } from "./sessions/cache.js";
import { SessionDpuCounter } from "./sessions/dpu-counter.js";
import { SessionExposition } from "./sessions/exposition.js";
import { FinishTally } from "./calculations/finish-tally.js";
import { FinishedCounters } from "./calculations/finished-counters.js";
import { FinishedHistograms } from "./calculations/finished-histograms.js";
import { TargetMetrics } from "./self/metrics.js";
import { owns, type Shard } from "./shard.js";
import { SwappableAthenaApi } from "./athena/swappable-api.js";
import { NOTHING_TRACKED, track, type Tracking } from "./tracking.js";
import { whileEither } from "./either-signal.js";
import { WatchSince } from "./watch-since.js";
import { WorkgroupDirectory } from "./workgroup-directory.js";
import { executorCache, type ExecutorCache, type ExecutorsEntry } from "./executors/cache.js";
import { ExecutorFailureTally } from "./executors/failure-tally.js";
import { EXECUTOR_FAMILIES } from "./executors/metrics.js";
import { isSessionEnded } from "./athena/session.js";
import { MetricsStore } from "./exposition/metrics-store.js";
import { assembleFamilies } from "./exposition/text-format.js";

/** What a target is built from, besides its configuration. */
export interface TargetDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** This replica's part of the work. */
  readonly shard: Shard;
  /** From AWS settings to the Athena API (the SDK's in production). */
  readonly athenaApis: AthenaApiFactory;
}

/** How long after a fetch lands what the caches learned is applied: answers landing meanwhile go in the same batch. */
const APPLY_AFTER_MS = 1000;

/**
 * One Athena account and region being watched: its calculations, listed and
 * discovered, refreshed through the caches on each scrape and rendered by
 * the expositions, with the counters fed from what the caches learn.
 */
export class Target {
  readonly metrics = new TargetMetrics();
  readonly #counters = new FinishedCounters();
  readonly #histograms = new FinishedHistograms();
  readonly #tally: FinishTally;
  readonly #api: SwappableAthenaApi;
  readonly #cache: CalculationCache;
  readonly #exposition = new CalculationExposition();
  readonly #sessions: SessionCache;
  readonly #sessionDpu: SessionDpuCounter;
  readonly #sessionExposition = new SessionExposition();
  readonly #directory: WorkgroupDirectory;
  readonly #executors: ExecutorCache;
  /** Each watched session's executor lines, rendered when a listing replaces its entry. */
  readonly #executorText = new MetricsStore<ExecutorsEntry>(EXECUTOR_FAMILIES);
  readonly #executorFailures: ExecutorFailureTally;
  readonly #since: WatchSince;
  /** The session of each calculation an answer has named it for; kept for configured IDs, so each is fetched once to learn it. */
  readonly #sessionOf = new Map<string, string>();
  /** What the cache holds at most, fixed at start: the bound on what is tracked. */
  readonly #capacity: number;
  #config: ExporterConfig;
  /** The families metrics.allow / metrics.deny leave out, decided once per configuration. */
  #hidden: ReadonlySet<string>;
  #discovery: { readonly discovery: Discovery; readonly repeater: Repeater } | undefined;
  #discovered: Discovered | undefined;
  #workgroups: readonly WorkGroupSummary[] = [];
  #tracking: Tracking = NOTHING_TRACKED;
  /** `#tracking.shown` and `.sessions` as sets: whose cache changes are rendered. */
  #shown: ReadonlySet<string> = new Set();
  #shownSessions: ReadonlySet<string> = new Set();
  /** The tracked calculations not settled in the cache: those a scrape refreshes (a settled one is a hit without a lookup). */
  #due = new Set<string>();
  /** Milliseconds between the last few scrapes, and when the last began: how soon the next scrape will come. */
  #scrapeGaps: number[] = [];
  #lastScrapeAt: number | undefined;
  /** The pending application of what landed since the caches were last asked (#applySoon). */
  #applying: NodeJS.Timeout | undefined;
  /** Sessions of calculations learned by a batch applied between scrapes, not yet tracked. */
  #sessionsLearned = false;

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
    this.#since = new WatchSince(config.calculations, config.discovery, startedAt);
    this.#tally = new FinishTally(this.#counters, this.#histograms, config.cache.maxEntries);
    this.#sessionDpu = new SessionDpuCounter(config.cache.maxEntries);
    const cacheOptions = {
      ttlMs: config.cache.ttlMs,
      maxEntries: config.cache.maxEntries,
      logger: deps.logger,
      now: deps.clock.now,
    };
    this.#sessions = sessionCache(this.#api, cacheOptions);
    this.#directory = new WorkgroupDirectory(this.#sessions);
    this.#executors = executorCache(this.#api, (id) => this.#sessions.peek(id)?.value, cacheOptions);
    this.#executorFailures = new ExecutorFailureTally(config.cache.maxEntries);
    this.#cache = calculationCache(this.#api, (sessionId, signal) => this.#directory.workgroupOf(sessionId, signal), cacheOptions);
    this.#sessionExposition.setPrice(config.cost.dpuHourPriceUsd);
    this.#sessionExposition.setWorkgroups([], config.discovery?.workgroupTags ?? []);
    this.#retrack();
    this.#startDiscovery(config);
  }

  get config(): ExporterConfig {
    return this.#config;
  }

  /** What is known of a watched calculation, without fetching it (the status page reads it). */
  calculationEntry(id: string): CalculationEntry | undefined {
    return this.#cache.peek(id);
  }

  /** What is known of a watched session, without fetching it (the status page reads it). */
  sessionEntry(id: string): SessionEntry | undefined {
    return this.#sessions.peek(id);
  }

  /** Discovery's state for the status page: off, not yet run, or its last run. */
  discoveryStatus(): { readonly enabled: false } | { readonly enabled: true; readonly lastRun: DiscoveryRun | undefined } {
    return this.#discovery === undefined ? { enabled: false } : { enabled: true, lastRun: this.#discovery.discovery.lastRun };
  }

  /** The calculations whose series this replica shows: configured ones first, then discovered ones, newest first. */
  trackedIds(): readonly string[] {
    return this.#tracking.shown;
  }

  /** The sessions this replica watches: those discovery found and those of the calculations it shows. */
  trackedSessionIds(): readonly string[] {
    return this.#tracking.sessions;
  }

  /**
   * Applies a new configuration at once. Only what changed changes: every
   * calculation still tracked (listed or discovered) keeps its cache entry
   * and text, and discovery keeps what it found; calculations no longer
   * tracked are dropped. What it adds counts from now on, as after a
   * restart. `cache.maxEntries` alone needs a restart.
   */
  reconfigure(next: ExporterConfig): void {
    const previous = this.#config;
    this.#config = next;
    this.#hidden = hiddenFamilies(next.metrics);
    this.#sessionExposition.setPrice(next.cost.dpuHourPriceUsd);
    this.#sessionExposition.setWorkgroups(this.#workgroups, next.discovery?.workgroupTags ?? []);
    const nowSeconds = this.deps.clock.now() / 1000;
    this.#since.update(next.calculations, previous.discovery, next.discovery, nowSeconds);
    if (!isDeepStrictEqual(previous.aws, next.aws)) this.#api.target = this.deps.athenaApis(next.aws, this.metrics.api);
    if (previous.cache.ttlMs !== next.cache.ttlMs) {
      this.#cache.setTtl(next.cache.ttlMs);
      this.#sessions.setTtl(next.cache.ttlMs);
      this.#executors.setTtl(next.cache.ttlMs);
    }
    if (previous.cache.maxEntries !== next.cache.maxEntries) {
      this.deps.logger.warn(
        { from: previous.cache.maxEntries, to: next.cache.maxEntries },
        "cache.maxEntries takes effect at the next restart",
      );
    }
    const before = previous.discovery;
    const after = next.discovery;
    if (!isDeepStrictEqual(before, after)) {
      if (after === undefined) {
        void this.#discovery?.repeater.stop();
        this.#discovery = undefined;
        this.#applyDiscovered(undefined);
        this.metrics.discoveredCalculations.set(0);
      } else if (this.#discovery === undefined || before === undefined) {
        this.#startDiscovery(next);
      } else {
        const listsMore =
          after.workgroups === "all"
            ? before.workgroups !== "all"
            : after.workgroups.some((w) => before.workgroups === "all" || !before.workgroups.includes(w));
        this.#applyDiscovered(this.#discovery.discovery.reconfigure(after, nowSeconds));
        this.#discovery.repeater.reschedule(after.intervalMs, listsMore);
      }
    }
    // Configured IDs no longer listed are forgotten with what was learned of them.
    const listed = new Set(next.calculations);
    for (const id of previous.calculations) if (!listed.has(id)) this.#sessionOf.delete(id);
    this.#retrack();
  }

  /**
   * The full body of this target's /metrics, in parts to write one after
   * the other (see gzip-body.ts for the two ways to write them). Never
   * throws: Athena failures become samples, and the refresh stops waiting at
   * `deadline`.
   */
  async scrape(deadline: AbortSignal): Promise<BodyPart[]> {
    // What landed after the last scrape's deadline first, so that it is rendered now.
    this.#takeCacheChanges();
    this.metrics.calculationsTracked.set(this.#tracking.shown.length);
    // Sessions first: a calculation's workgroup lookup then finds its session fresh in the cache.
    const pace = { aheadMs: this.#refreshAhead(), atOnce: this.#config.aws.maxConcurrency, landed: this.#applySoon };
    const sessions = await this.#sessions.refresh(this.#tracking.sessions, deadline, pace);
    // A settled calculation is never fetched again: it is a hit without a cache lookup.
    const settledHits = this.#tracking.ids.length - this.#due.size;
    // Executors are listed beside the calculations, for the sessions now known, and waited for only while the
    // calculations are: a listing still queued then lands for the next scrape, so the list rate limit delays
    // executor data, never the scrape. Each scrape starts no more listings than half the list rate allows
    // before the next one (the other half is discovery's), the longest waiting first.
    const listed = this.#tracking.sessions.filter((id) => this.#sessions.peek(id)?.value !== undefined);
    const calculationsDone = new AbortController();
    const horizonSeconds = (pace.aheadMs > 0 ? pace.aheadMs : this.#config.cache.ttlMs) / 1000;
    const listings = Math.max(1, Math.floor((this.#config.aws.listRequestsPerSecond * horizonSeconds) / 2));
    const executors = whileEither(deadline, calculationsDone.signal, (signal) =>
      this.#executors.refresh(listed, signal, { ...pace, most: listings }),
    );
    const calculations = await this.#cache.refresh(this.#due, deadline, pace);
    calculationsDone.abort();
    await executors;
    this.#takeCacheChanges();
    this.metrics.cacheHits.inc(calculations.hits + settledHits + sessions.hits);
    this.metrics.cacheMisses.inc(calculations.misses + sessions.misses);
    const hidden = this.#hidden;
    return [
      ...this.#exposition.parts(this.deps.clock.now() / 1000, hidden),
      ...this.#sessionExposition.parts(hidden),
      ...assembleFamilies(EXECUTOR_FAMILIES, (family) => [this.#executorText.text(family, 0)], hidden),
      // Rendered when a finish is observed, so it comes before the text rendered for this scrape, which goes as one piece.
      this.#histograms.expose(hidden),
      Buffer.from(
        (await this.metrics.api.text()) +
          this.#counters.expose(hidden) +
          this.#sessionDpu.expose(hidden) +
          this.#executorFailures.expose(hidden) +
          (await registryText(this.metrics.registry)),
        "utf8",
      ),
    ];
  }

  async close(): Promise<void> {
    clearTimeout(this.#applying);
    await this.#discovery?.repeater.stop();
  }

  /**
   * How far ahead a refresh looks: nine tenths of the shortest of the last
   * few gaps between scrapes, never more than the TTL. What would be stale
   * before the next scrape is refreshed now: with a TTL equal to the scrape
   * interval, data is otherwise served just under the TTL at one scrape and
   * refreshed at the next, and the calls come every other scrape. The
   * shortest gap, so that a burst of scrapes (two Prometheus replicas, a
   * person reloading the page) never makes every scrape refetch; nine tenths,
   * so that a TTL of two intervals still refreshes every other scrape
   * whatever the jitter.
   */
  #refreshAhead(): number {
    const now = this.deps.clock.now();
    if (this.#lastScrapeAt !== undefined) this.#scrapeGaps = [...this.#scrapeGaps.slice(-3), now - this.#lastScrapeAt];
    this.#lastScrapeAt = now;
    if (this.#scrapeGaps.length === 0) return 0;
    return Math.min(this.#config.cache.ttlMs, 0.9 * Math.min(...this.#scrapeGaps));
  }

  /**
   * Applies what the caches learned a moment after a fetch lands, a batch
   * at a time: a cold start's answers become text (and settled chunks are
   * compressed as they fill) while they come, instead of all at the next
   * scrape, when the process would hold every answer and its text at once.
   * Sessions learned meanwhile are tracked from the next scrape on: working
   * out what is tracked walks every ID, too much for every batch.
   */
  readonly #applySoon = (): void => {
    this.#applying ??= setTimeout(() => {
      this.#applying = undefined;
      this.#takeCacheChanges({ retrack: false });
    }, APPLY_AFTER_MS).unref();
  };

  /**
   * Applies what the caches learned since they were last asked: the
   * counters, the text of what changed, and the session of each
   * calculation. Only what this shard owns is counted or kept settled.
   */
  #takeCacheChanges({ retrack } = { retrack: true }): void {
    let learned = this.#sessionsLearned;
    for (const change of this.#cache.takeChanges()) {
      if (change.kind === "dropped") {
        this.#exposition.drop(change.id);
        // Evicted while still shown: it shows as Athena not having answered until it is fetched again.
        if (this.#shown.has(change.id)) {
          this.#exposition.show(change.id, undefined);
          this.#due.add(change.id);
        }
        continue;
      }
      const { id, held, answer } = change;
      if (held.settled) this.#due.delete(id);
      if (answer?.calculation !== undefined) {
        const { calculation } = answer;
        if (this.#sessionOf.get(id) !== calculation.sessionId) {
          this.#sessionOf.set(id, calculation.sessionId);
          learned = true;
        }
        if (owns(this.deps.shard, calculation.sessionId)) {
          this.#tally.observe(calculation, answer.workgroup, this.#since.calculation(id, answer.workgroup));
          if (held.settled) {
            this.#exposition.settle(calculation, answer.workgroup);
            continue;
          }
        }
      }
      if (this.#shown.has(id)) this.#exposition.show(id, held);
    }
    const changes = this.#sessions.takeChanges();
    const refreshed = changes.flatMap((change) => (change.kind === "updated" && change.answer !== undefined ? [change.answer] : []));
    const listings = this.#executors.takeChanges();
    const executorChanges = listings.flatMap((change) => (change.kind === "updated" ? (change.answer?.changed ?? []) : []));
    // The configured calculations of each session, worked out once per batch rather than once per session:
    // a walk of every tracked calculation per session refreshed would grow with both.
    const listedIn = new Map<string, string[]>();
    if (refreshed.length > 0 || executorChanges.length > 0) {
      for (const id of this.#config.calculations) {
        const session = this.#sessionOf.get(id);
        if (session === undefined) continue;
        const ids = listedIn.get(session);
        if (ids === undefined) listedIn.set(session, [id]);
        else ids.push(id);
      }
    }
    for (const change of changes) {
      if (!this.#shownSessions.has(change.id)) continue;
      this.#sessionExposition.show(change.id, change.kind === "updated" ? change.held : undefined);
    }
    for (const session of refreshed) {
      if (!owns(this.deps.shard, session.id)) continue;
      this.#sessionDpu.observe(session, this.#since.session(session.workgroup, listedIn.get(session.id) ?? []));
      this.#executorFailures.declare(session.workgroup);
      // Its executors' last states are listed in full at once.
      if (isSessionEnded(session.state)) this.#executors.expire(session.id);
    }
    for (const listing of listings) {
      if (!this.#shownSessions.has(listing.id)) continue;
      if (listing.kind === "dropped") this.#executorText.delete(listing.id);
      else if (listing.held.value !== undefined) this.#executorText.set(listing.id, listing.held.value);
    }
    for (const change of executorChanges) {
      if (!owns(this.deps.shard, change.sessionId)) continue;
      this.#executorFailures.observe(change, this.#since.session(change.workgroup, listedIn.get(change.sessionId) ?? []));
    }
    this.#sessionsLearned = learned && !retrack;
    if (learned && retrack) this.#retrack();
  }

  /** Works out what is tracked, and drops from the caches what no longer is: the one place where tracking changes. */
  #retrack(): void {
    const previous = this.#tracking;
    const next = track({
      listed: this.#config.calculations,
      discovered: this.#discovered,
      sessionOf: this.#sessionOf,
      shard: this.deps.shard,
      capacity: this.#capacity,
    });
    const ids = new Set(next.ids);
    const listed = new Set(this.#config.calculations);
    for (const id of previous.ids) {
      if (ids.has(id)) continue;
      this.#cache.forget(id);
      if (!listed.has(id)) this.#sessionOf.delete(id);
    }
    const sessions = new Set(next.sessions);
    for (const id of previous.sessions) {
      if (sessions.has(id)) continue;
      this.#sessions.forget(id);
      this.#executors.forget(id);
      this.#executorText.delete(id);
    }
    this.#noteLeftOut(previous.leftOut, next.leftOut);
    this.#tracking = next;
    this.#due = new Set(next.ids.filter((id) => this.#cache.peek(id)?.settled !== true));
    // What is shown anew is rendered from what the cache holds; what is no longer shown is dropped.
    const shown = new Set(next.shown);
    for (const id of this.#shown) if (!shown.has(id)) this.#exposition.drop(id);
    for (const id of shown) if (!this.#shown.has(id)) this.#exposition.show(id, this.#cache.peek(id));
    this.#shown = shown;
    for (const id of this.#shownSessions) if (!sessions.has(id)) this.#sessionExposition.drop(id);
    for (const id of sessions) if (!this.#shownSessions.has(id)) this.#sessionExposition.show(id, this.#sessions.peek(id));
    this.#shownSessions = sessions;
  }

  #noteLeftOut(before: number, leftOut: number): void {
    this.metrics.calculationsLeftOut.set(leftOut);
    // Logged when it starts and when it ends, not on every change.
    if (leftOut > 0 && before === 0) {
      this.deps.logger.warn(
        { left_out: leftOut, max_entries: this.#capacity },
        "discovery found more calculations than cache.maxEntries holds; the newest are watched, the rest left out (athena_exporter_calculations_left_out)",
      );
    } else if (leftOut === 0 && before > 0) {
      this.deps.logger.info({ max_entries: this.#capacity }, "every discovered calculation fits in cache.maxEntries again");
    }
  }

  /** Applies what discovery found: the IDs to track, session workgroups, and states that moved on. */
  #applyDiscovered(found: Discovered | undefined): void {
    this.#discovered = found;
    this.#directory.listed = found?.sessionWorkgroups ?? new Map();
    this.#workgroups = found?.workgroups ?? [];
    this.#sessionExposition.setWorkgroups(this.#workgroups, this.#config.discovery?.workgroupTags ?? []);
    if (found === undefined) {
      this.#retrack();
      return;
    }
    // The listing shows these ended: their final state, end time and DPU total are fetched next.
    for (const id of found.ended) this.#sessions.expire(id);
    for (const [id, state] of found.changed) {
      const held = this.#cache.peek(id)?.value;
      if (held !== undefined && held.state !== state) this.#cache.expire(id);
    }
    this.#retrack();
  }

  #startDiscovery(config: ExporterConfig): void {
    if (config.discovery === undefined) return;
    const discovery = new Discovery(this.metrics, this.deps.logger, (sessionId) => owns(this.deps.shard, sessionId));
    const repeater = new Repeater(config.discovery.intervalMs, async (signal) => {
      const settings = () => this.#config.discovery;
      const current = settings();
      if (current === undefined) return;
      const found = await discovery.run(this.#api, current, settings, this.deps.clock.now() / 1000, signal);
      // A run that a reload turned discovery off (or on anew) during is not applied.
      if (found !== undefined && this.#discovery?.discovery === discovery) this.#applyDiscovered(found);
    });
    void this.#discovery?.repeater.stop();
    this.#discovery = { discovery, repeater };
    repeater.start();
  }
}
