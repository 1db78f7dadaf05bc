/**
 * The one place where the alert rules' thresholds and selectors are set
 * (the kubernetes-mixin habit): prometheus/alerts.yml is generated from it
 * (`npm run generate:rules`), and the dashboard reads the same constants for
 * the thresholds that mirror an alert, so a panel turns red when the alert
 * would fire. Change a number here, regenerate, commit both.
 */

/** Calculation states that are not final: a calculation can be stuck in each. */
export type UnfinishedCalculationState = "CREATING" | "CREATED" | "QUEUED" | "RUNNING" | "CANCELING";

export interface MixinConfig {
  /**
   * Label matcher for the exporter's scrape jobs, inside `{}`. The regex
   * takes both the per-target job and the `-process` job of
   * prometheus-multi-target.yml.
   */
  readonly jobSelector: string;
  /** The job AthenaExporterDown expects to exist: `absent()` of its `up` fires when Prometheus has no such target at all. */
  readonly exporterJob: string;
  /** How far back AthenaExporterDown looks for a target whose `up` series stopped (it vanished from service discovery). */
  readonly targetVanishedLookback: string;
  /** Seconds since submission after which an unfinished calculation is stuck, per state it may be stuck in. */
  readonly stuckAfterSeconds: Readonly<Record<UnfinishedCalculationState, number>>;
  /** Share (0 to 1) of the calculations finishing in a workgroup that may fail before AthenaCalculationFailureRatioHigh. */
  readonly failureRatio: number;
  /** The window the failure ratio is taken over, and how many must finish in it for the ratio to mean something. */
  readonly failureRatioWindow: string;
  readonly failureRatioMinFinished: number;
  /** How long after completion a FAILED calculation, or after its end a FAILED session, still alerts. */
  readonly failedRecentSeconds: number;
  /** Age (`time() -` last refresh) after which an unfinished calculation's data is stale. */
  readonly dataStaleAfterSeconds: number;
  /** Age of discovery's last complete run after which discovery is stale (default interval 1m). */
  readonly discoveryStaleAfterSeconds: number;
  /** Share of Athena API requests (throttling aside) that may fail before AthenaExporterApiErrors. */
  readonly apiErrorRatio: number;
  /** Throttled HTTP attempts per second, retries included, before AthenaExporterThrottled. */
  readonly throttledAttemptsPerSecond: number;
  /** How long a session may stay IDLE before AthenaSessionIdle (also the recording rule the dashboard draws). */
  readonly sessionIdleSeconds: number;
  /**
   * Idle timeout a session must have left for AthenaSessionIdle to page: one
   * that Athena ends sooner by itself (the console's 20-minute default) costs
   * little more than the page would.
   */
  readonly sessionIdleTimeoutLeftSeconds: number;
  /** Executors of one session that may go FAILED within `executorFailuresWindow` before AthenaExecutorsFailing. */
  readonly executorFailures: number;
  readonly executorFailuresWindow: string;
  /**
   * `keep_firing_for:` of every alert but AthenaExporterDown: how long an alert
   * stays firing after its expression stopped returning it. A failed scrape
   * (an exporter restart, a timeout) marks every series stale at once; without
   * this hold each firing alert would resolve and page again a scrape later.
   * A failed refresh needs no hold: the exporter keeps serving the last known
   * values, and the rules read them.
   */
  readonly keepFiringFor: string;
  /**
   * AthenaCalculationsSlowerThanUsual: a workgroup's p95 duration of COMPLETED
   * calculations over `window` above `factor` times its p95 over `baseline`,
   * where at least `minFinished` completed in `window`.
   */
  readonly slowdown: { readonly window: string; readonly baseline: string; readonly factor: number; readonly minFinished: number };
  /**
   * What a workgroup may spend in 24 hours, in US dollars at
   * athena_dpu_hour_price_usd, before AthenaWorkgroupDailySpendOverBudget:
   * `dailyBudgetUsd` for every workgroup, `workgroupDailyBudgetUsd` for
   * those named. AthenaWorkgroupSpendSpike fires when a workgroup's last hour
   * used more than `spikeFactor` times the DPU-hours of the same hour a week
   * before, and at least `spikeMinDpuHours`.
   */
  readonly spend: {
    readonly dailyBudgetUsd: number;
    readonly workgroupDailyBudgetUsd: Readonly<Record<string, number>>;
    readonly spikeFactor: number;
    readonly spikeMinDpuHours: number;
  };
  /** The workgroup tag key (of discovery.workgroupTags) the dashboard's cost-per-team panel groups by. */
  readonly teamTagKey: string;
  /**
   * A calculation that FAILED at most this long before its session's end,
   * or while its session is TERMINATING, was stopped by the session's end:
   * AthenaSessionTerminatedCalculations counts it and it does not page on its own.
   */
  readonly terminationWindowSeconds: number;
  /** `for:` of each alert that waits. */
  readonly for: {
    readonly calculationFailed: string;
    readonly stuck: string;
    readonly failureRatio: string;
    readonly sessionDegraded: string;
    readonly refreshFailing: string;
    readonly sessionRefreshFailing: string;
    readonly apiErrors: string;
    readonly throttled: string;
    readonly listingFailing: string;
    readonly down: string;
    readonly dataStale: string;
    readonly discoveryStale: string;
    readonly configReloadFailed: string;
    readonly slowdown: string;
    readonly dailySpend: string;
    readonly spendSpike: string;
    readonly executorsFailing: string;
  };
  /** Where runbook.md is served; each alert links to `${runbookBaseUrl}#<alert name in lower case>`. */
  readonly runbookBaseUrl: string;
}

export const mixinConfig: MixinConfig = {
  jobSelector: 'job=~"athena-calculation-exporter(-process)?"',
  exporterJob: "athena-calculation-exporter",
  targetVanishedLookback: "1h",
  stuckAfterSeconds: {
    // Athena starts a calculation within seconds; minutes here mean the session is starved or broken.
    CREATING: 600,
    CREATED: 600,
    QUEUED: 3600,
    RUNNING: 3600,
    // A cancel that takes this long will not end by itself.
    CANCELING: 900,
  },
  failureRatio: 0.25,
  failureRatioWindow: "30m",
  failureRatioMinFinished: 4,
  failedRecentSeconds: 3600,
  // The cache refreshes an unfinished calculation every 30 s (cache.ttl) on each scrape: ten minutes is many missed refreshes.
  dataStaleAfterSeconds: 600,
  // Discovery runs every minute by default: fifteen runs in a row without a complete listing.
  discoveryStaleAfterSeconds: 900,
  apiErrorRatio: 0.1,
  throttledAttemptsPerSecond: 0.1,
  sessionIdleSeconds: 1800,
  // Three hours hold enough finishes of a busy workgroup for a p95, and a bad deploy shows within them; a factor of 2
  // is about one bucket step of the duration histogram, so interpolation alone never fires it.
  slowdown: { window: "3h", baseline: "7d", factor: 2, minFinished: 20 },
  // 100 USD is about 285 DPU-hours at the us-east-1 price: set your own, per workgroup where they differ.
  spend: { dailyBudgetUsd: 100, workgroupDailyBudgetUsd: {}, spikeFactor: 3, spikeMinDpuHours: 10 },
  teamTagKey: "team",
  // A session's calculations stop as it starts TERMINATING; it reaches TERMINATED within a minute or two.
  terminationWindowSeconds: 300,
  sessionIdleTimeoutLeftSeconds: 3600,
  // Spark replaces a lost executor; three lost in 15 minutes is a crash loop, not bad luck.
  executorFailures: 3,
  executorFailuresWindow: "15m",
  // Longer than a restart and Prometheus's 5-minute lookback; an alert that really ended is resolved this much later.
  keepFiringFor: "5m",
  for: {
    // FAILED is final, but a session's state may reach Prometheus a scrape after its calculations':
    // two minutes let AthenaSessionFailed take their place, so a dying session pages once.
    calculationFailed: "2m",
    stuck: "5m",
    failureRatio: "5m",
    sessionDegraded: "5m",
    refreshFailing: "15m",
    sessionRefreshFailing: "15m",
    apiErrors: "10m",
    throttled: "10m",
    listingFailing: "15m",
    down: "5m",
    dataStale: "5m",
    discoveryStale: "5m",
    configReloadFailed: "5m",
    // A slow hour is not a trend: half an hour of it is.
    slowdown: "30m",
    // The 24-hour sum only grows while the spend goes on: a short wait keeps a restart's gap from flapping it.
    dailySpend: "15m",
    spendSpike: "15m",
    executorsFailing: "5m",
  },
  runbookBaseUrl: "https://github.com/athena-calculation-exporter/athena-calculation-exporter/blob/main/prometheus/runbook.md",
};

/** Named constants for the dashboard, so a panel's threshold reads as the alert's. */
export const jobSelector = mixinConfig.jobSelector;
export const stuckAfterSeconds = mixinConfig.stuckAfterSeconds;
export const failureRatio = mixinConfig.failureRatio;
export const dataStaleAfterSeconds = mixinConfig.dataStaleAfterSeconds;
export const discoveryStaleAfterSeconds = mixinConfig.discoveryStaleAfterSeconds;
export const sessionIdleSeconds = mixinConfig.sessionIdleSeconds;
export const runbookBaseUrl = mixinConfig.runbookBaseUrl;

/** The runbook anchor of an alert, as GitHub renders `## AlertName`. */
export function runbookUrl(alert: string, config: MixinConfig = mixinConfig): string {
  return `${config.runbookBaseUrl}#${alert.toLowerCase()}`;
}
