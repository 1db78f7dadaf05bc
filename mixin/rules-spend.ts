/**
 * The rules over weeks: how long calculations take (from the histogram of
 * finished calculations) and what the workgroups spend (from the session DPU
 * counter), built from mixin/config.ts like the other rules. Recording rules
 * keep the week-long windows cheap: the baseline reads an hourly rate, not
 * seven days of raw buckets.
 */
import type { MixinConfig } from "./config.js";
import type { AlertRule, RecordingRule, RuleGroup } from "./rules.js";

/** What rules.ts builds every rule with: a selector with the job selector, and an alert with its runbook link and hold. */
export interface RuleHelpers {
  readonly s: (metric: string, ...matchers: string[]) => string;
  readonly alert: (
    rule: Omit<AlertRule, "annotations" | "keep_firing_for"> & { annotations: { readonly summary: string; readonly description: string } },
  ) => AlertRule;
}

/** The recording rules' names, which the dashboard reads too. */
export const DURATION_BUCKET_RATE = "athena:calculations_finished_duration_seconds_bucket:rate1h";
export const durationQuantile = (q: "p50" | "p95", window: string): string =>
  `athena:calculations_finished_duration_seconds:${q}_${window}`;
export const DPU_HOURS_1H = "athena:workgroup_dpu_hours:increase1h";
export const DPU_HOURS_1D = "athena:workgroup_dpu_hours:increase1d";
export const SPEND_USD_1D = "athena:workgroup_spend_usd:increase1d";
export const DAILY_BUDGET_USD = "athena:workgroup_daily_spend_budget_usd";

const BY = "job, instance, workgroup";

export function spendRuleGroups(c: MixinConfig, { s, alert }: RuleHelpers): RuleGroup[] {
  const { window, baseline, factor, minFinished } = c.slowdown;
  const bucket = s("athena_calculations_finished_duration_seconds_bucket", 'state="COMPLETED"');
  const recentP95 = `histogram_quantile(0.95, sum by (${BY}, le) (rate(${bucket}[${window}])))`;
  const overrides = Object.entries(c.spend.workgroupDailyBudgetUsd).map(
    ([workgroup, usd]) => `label_replace(vector(${usd}), "workgroup", ${JSON.stringify(workgroup)}, "", "")`,
  );
  const everyWorkgroup = `max by (workgroup) (${s("athena_sessions_dpu_execution_seconds_total")}) * 0 + ${c.spend.dailyBudgetUsd}`;
  const budgetOf = `{{ with printf "${DAILY_BUDGET_USD}{workgroup='%s'}" $labels.workgroup | query }}{{ . | first | value | printf "%.2f" }}{{ end }}`;
  return [
    {
      name: "athena-durations",
      rules: [
        {
          record: DURATION_BUCKET_RATE,
          why: "Per workgroup, the hourly rate of each duration bucket of COMPLETED calculations: what the p50, p95 and the week's baseline read.",
          expr: `sum by (${BY}, le) (rate(${bucket}[1h]))`,
        } satisfies RecordingRule,
        ...(["p50", "p95"] as const).map((q): RecordingRule => ({
          record: durationQuantile(q, "1h"),
          expr: `histogram_quantile(${q === "p50" ? "0.5" : "0.95"}, ${DURATION_BUCKET_RATE})`,
        })),
        {
          record: durationQuantile("p95", baseline),
          why: `The ${baseline} p95 per workgroup, from the hourly rates averaged over ${baseline}: the baseline AthenaCalculationsSlowerThanUsual compares with.`,
          expr: `histogram_quantile(0.95, avg_over_time(${DURATION_BUCKET_RATE}[${baseline}]))`,
        },
        alert({
          alert: "AthenaCalculationsSlowerThanUsual",
          why:
            `The p95 duration of a workgroup's COMPLETED calculations over ${window} is more than ${factor} times its ${baseline} p95, ` +
            `counting only workgroups where at least ${minFinished} completed in ${window}. Histograms count only what the exporter saw ` +
            "finish, and rate() reads a restart's reset as one, so a restart never fires it; a workgroup added by a reload has only its " +
            "recent hours as baseline, so it stays quiet until a slowdown shows against them.",
          expr: [
            recentP95,
            `> on (${BY})`,
            `${factor} * ${durationQuantile("p95", baseline)}`,
            `and on (${BY})`,
            `sum by (${BY}) (increase(${s("athena_calculations_finished_duration_seconds_count", 'state="COMPLETED"')}[${window}])) >= ${minFinished}`,
          ].join("\n"),
          for: c.for.slowdown,
          labels: { severity: "warning" },
          annotations: {
            summary: "Athena calculations of workgroup {{ $labels.workgroup }} take longer than usual",
            description:
              `The p95 duration of the calculations that completed in workgroup {{ $labels.workgroup }} of {{ $labels.instance }} over the last ${window} ` +
              `is {{ $value | humanizeDuration }}, more than ${factor} times its ${baseline} p95 ` +
              `({{ with printf "${durationQuantile("p95", baseline)}{job='%s',instance='%s',workgroup='%s'}" $labels.job $labels.instance $labels.workgroup | query }}{{ . | first | value | humanizeDuration }}{{ end }}).`,
          },
        }),
      ],
    },
    {
      name: "athena-spend",
      rules: [
        {
          record: DPU_HOURS_1H,
          why: "DPU-hours each workgroup's sessions used in the last hour, as the exporter counted them (a restart never counts the past).",
          expr: `sum by (${BY}) (increase(${s("athena_sessions_dpu_execution_seconds_total")}[1h])) / 3600`,
        },
        {
          record: DPU_HOURS_1D,
          why: "DPU-hours each workgroup's sessions used in the last 24 hours.",
          expr: `sum by (${BY}) (increase(${s("athena_sessions_dpu_execution_seconds_total")}[1d])) / 3600`,
        },
        {
          record: SPEND_USD_1D,
          why: "What the last 24 hours cost each workgroup at the configured DPU-hour price (athena_dpu_hour_price_usd).",
          expr: `${DPU_HOURS_1D} * on (job, instance) group_left () ${s("athena_dpu_hour_price_usd")}`,
        },
        {
          record: DAILY_BUDGET_USD,
          why: "Each workgroup's daily budget in US dollars (mixin/config.ts spend): the named ones' own, every other workgroup the default.",
          expr: [...overrides, everyWorkgroup].join("\nor on (workgroup)\n"),
        },
        alert({
          alert: "AthenaWorkgroupDailySpendOverBudget",
          why: "A workgroup's sessions cost more over the last 24 hours than its budget. A rolling day, so it resolves as the spend of a day ago leaves the window.",
          expr: `${SPEND_USD_1D} > on (workgroup) group_left () ${DAILY_BUDGET_USD}`,
          for: c.for.dailySpend,
          labels: { severity: "warning" },
          annotations: {
            summary: 'Workgroup {{ $labels.workgroup }} spent {{ $value | printf "%.2f" }} USD in 24 hours, over its budget',
            description:
              "The Spark sessions of workgroup {{ $labels.workgroup }} of {{ $labels.instance }} used " +
              `{{ with printf "${DPU_HOURS_1D}{job='%s',instance='%s',workgroup='%s'}" $labels.job $labels.instance $labels.workgroup | query }}{{ . | first | value | printf "%.1f" }}{{ end }} DPU-hours ` +
              `in the last 24 hours, about {{ $value | printf "%.2f" }} USD, over its daily budget of ${budgetOf} USD.`,
          },
        }),
        alert({
          alert: "AthenaWorkgroupSpendSpike",
          why:
            `A workgroup's last hour used more than ${c.spend.spikeFactor} times the DPU-hours of the same hour a week before, and at least ` +
            `${c.spend.spikeMinDpuHours}. Quiet where there is no week-old figure (a new workgroup, an exporter younger than a week).`,
          expr: [
            DPU_HOURS_1H,
            `> on (${BY})`,
            `${c.spend.spikeFactor} * (${DPU_HOURS_1H} offset 1w)`,
            `and on (${BY})`,
            `${DPU_HOURS_1H} >= ${c.spend.spikeMinDpuHours}`,
          ].join("\n"),
          for: c.for.spendSpike,
          labels: { severity: "warning" },
          annotations: {
            summary: "Workgroup {{ $labels.workgroup }} spends far more than a week ago",
            description:
              'The Spark sessions of workgroup {{ $labels.workgroup }} of {{ $labels.instance }} used {{ $value | printf "%.1f" }} DPU-hours in the last hour, against ' +
              `{{ with printf "${DPU_HOURS_1H}{job='%s',instance='%s',workgroup='%s'} offset 1w" $labels.job $labels.instance $labels.workgroup | query }}{{ . | first | value | printf "%.1f" }}{{ end }} ` +
              "in the same hour a week ago.",
          },
        }),
      ],
    },
  ];
}
