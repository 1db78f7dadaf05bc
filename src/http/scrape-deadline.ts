/** Time kept back for rendering and the network after the refresh stops waiting. */
export const DEADLINE_MARGIN_MS = 500;
const MIN_BUDGET_MS = 100;

/**
 * How long a scrape may wait for Athena: Prometheus's
 * X-Prometheus-Scrape-Timeout-Seconds header less a margin, as
 * blackbox_exporter does, and never more than the configured timeout. A
 * missing or nonsensical header means the configured timeout.
 */
export function refreshBudgetMs(header: string | undefined, configuredMs: number): number {
  const seconds = header === undefined ? NaN : Number(header);
  const fromHeader = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 - DEADLINE_MARGIN_MS : Infinity;
  return Math.max(MIN_BUDGET_MS, Math.min(configuredMs, fromHeader));
}
