import { startPrometheus } from "../test/prometheus-server.js";

export interface PrometheusView {
  /** scrape_duration_seconds over the scrapes taken, in ms, per job. */
  readonly p50Ms: Record<string, number>;
  readonly maxMs: Record<string, number>;
  /** scrape_samples_scraped of the last scrape, per job. */
  readonly samples: Record<string, number>;
  /** min_over_time(up): 1 when every scrape taken succeeded. */
  readonly allUp: Record<string, number>;
  /** How many scrapes the figures cover, per job. */
  readonly scrapes: Record<string, number>;
}

/**
 * A real Prometheus (which asks every target for gzip by default) scraping
 * each of `targets` (job name to host:port) until each job has `scrapes`
 * samples of scrape_duration_seconds, then what it saw.
 */
export async function prometheusView(targets: Record<string, string>, intervalS: number, scrapes: number): Promise<PrometheusView> {
  const prometheus = await startPrometheus(
    { scrapeConfigs: Object.entries(targets).map(([job, target]) => ({ job_name: job, static_configs: [{ targets: [target] }] })) },
    "groups: []\n",
    { scrapeInterval: `${intervalS}s`, scrapeTimeout: `${intervalS}s` },
  );
  try {
    const byJob = async (expr: string): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const r of (await prometheus.query(expr)).result) out[r.metric.job ?? ""] = Number(r.value?.[1] ?? NaN);
      return out;
    };
    // The window covers the whole phase: scrapes that outlast the interval are skipped by Prometheus, not queued.
    const started = Date.now();
    const deadline = started + intervalS * 1000 * (scrapes + 4) + 60_000;
    let window = "";
    for (;;) {
      window = `${Math.ceil((Date.now() - started) / 1000) + 5}s`;
      const counts = await byJob(`count_over_time(scrape_duration_seconds[${window}])`);
      if (Object.keys(targets).every((job) => (counts[job] ?? 0) >= scrapes)) break;
      // A busy machine: report the scrapes there were rather than nothing.
      if (Date.now() > deadline && Object.keys(targets).every((job) => (counts[job] ?? 0) >= 1)) break;
      if (Date.now() > deadline + 120_000) throw new Error(`Prometheus scraped nothing in time: ${JSON.stringify(counts)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const toMs = (r: Record<string, number>): Record<string, number> =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v * 1000]));
    return {
      p50Ms: toMs(await byJob(`quantile_over_time(0.5, scrape_duration_seconds[${window}])`)),
      maxMs: toMs(await byJob(`max_over_time(scrape_duration_seconds[${window}])`)),
      samples: await byJob("scrape_samples_scraped"),
      allUp: await byJob(`min_over_time(up[${window}])`),
      scrapes: await byJob(`count_over_time(scrape_duration_seconds[${window}])`),
    };
  } finally {
    await prometheus.stop();
  }
}
