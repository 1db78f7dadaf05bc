/** Prometheus's default scrape_timeout, used when the header is absent. */
export const DEFAULT_SCRAPE_TIMEOUT_MS = 10_000;
/** Time kept back for rendering and the network after the refresh stops waiting. */
export const DEADLINE_MARGIN_MS = 500;
const MIN_BUDGET_MS = 100;

/**
 * How long a scrape may wait for Athena, from Prometheus's
 * X-Prometheus-Scrape-Timeout-Seconds header less a margin, as
 * blackbox_exporter does. A missing or nonsensical header means the default.
 */
export function refreshBudgetMs(header: string | undefined): number {
  const seconds = header === undefined ? NaN : Number(header);
  const timeoutMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_SCRAPE_TIMEOUT_MS;
  return Math.max(MIN_BUDGET_MS, timeoutMs - DEADLINE_MARGIN_MS);
}
