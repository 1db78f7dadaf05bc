import { CALCULATION_STATES, isFinished, type CalculationState } from "../athena/calculation.js";
import type { CalculationEntry } from "../calculations/cache.js";
import type { ProcessMetrics } from "../self/metrics.js";
import type { SessionEntry } from "../sessions/cache.js";
import type { Session } from "../athena/session.js";
import type { Target } from "../target.js";
import type { Targets } from "../targets.js";
import { VERSION } from "../version.js";

/** How many rows each list shows at most: the page stays small however many calculations are watched. */
export const WORST_FEW = 20;
/** Athena's texts are shown cut to this many characters. */
const MAX_TEXT = 200;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shown(text: string): string {
  return escapeHtml(text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);
}

function isoTime(unixSeconds: number | undefined): string {
  return unixSeconds === undefined || !Number.isFinite(unixSeconds) ? "unknown" : new Date(unixSeconds * 1000).toISOString();
}

/**
 * The `n` items with the smallest key, in order, without sorting them all:
 * one pass keeping a short sorted list, O(items × n) with n small.
 */
export function smallestBy<T>(items: Iterable<T>, n: number, key: (item: T) => number): T[] {
  const kept: { item: T; key: number }[] = [];
  for (const item of items) {
    const k = key(item);
    if (kept.length === n && k >= (kept[n - 1]?.key ?? Infinity)) continue;
    let at = kept.length;
    while (at > 0 && (kept[at - 1]?.key ?? -Infinity) > k) at--;
    kept.splice(at, 0, { item, key: k });
    if (kept.length > n) kept.pop();
  }
  return kept.map((k) => k.item);
}

/** Athena's reason for a state, or a plain "none given". */
function reasonText(reason: string | undefined): string {
  return reason === undefined || reason === "" ? "<em>none given</em>" : shown(reason);
}

/** A table of `rows` under `headers`, or "None." when there are none. */
function table(headers: readonly string[], rows: readonly string[]): string {
  return rows.length === 0 ? "<p>None.</p>" : `<table><tr>${headers.map((h) => `<th>${h}</th>`).join("")}</tr>${rows.join("")}</table>`;
}

interface Watched {
  readonly id: string;
  readonly entry: CalculationEntry | undefined;
}

/** "PENDING": watched, but no answer yet. */
type Shown = CalculationState | "PENDING";

function counts<K extends string>(keys: Iterable<K>): Map<K, number> {
  const out = new Map<K, number>();
  for (const key of keys) out.set(key, (out.get(key) ?? 0) + 1);
  return out;
}

function countTable(title: string, counted: ReadonlyMap<string, number>, order: readonly string[]): string {
  const keys = [...order.filter((k) => counted.has(k)), ...[...counted.keys()].filter((k) => !order.includes(k)).sort()];
  const rows = keys.map((k) => `<tr><td>${shown(k)}</td><td>${counted.get(k) ?? 0}</td></tr>`).join("");
  return `<table><caption>${title}</caption><tr><th>State</th><th>Count</th></tr>${rows === "" ? '<tr><td colspan="2">none</td></tr>' : rows}</table>`;
}

function targetSection(name: string | undefined, target: Target): string {
  const ids = target.trackedIds();
  const watched: Watched[] = ids.map((id) => ({ id, entry: target.calculationEntry(id) }));
  const byState = counts<Shown>(watched.map((w) => w.entry?.value?.state ?? "PENDING"));

  const failing = watched.filter((w) => w.entry?.error !== undefined);
  const failingRows = smallestBy(failing, WORST_FEW, (w) => w.entry?.failingSince ?? Infinity).map(
    ({ id, entry }) =>
      `<tr><td><code>${shown(id)}</code></td><td>${shown(entry?.error?.code ?? "")}</td><td>${shown(entry?.error?.message ?? "")}</td><td>${isoTime(entry?.failingSince)}</td><td>${isoTime(entry?.refreshedAt)}</td></tr>`,
  );

  const unfinished = watched.filter((w) => w.entry?.value?.state !== undefined && !isFinished(w.entry.value.state));
  const unfinishedRows = smallestBy(unfinished, WORST_FEW, (w) => w.entry?.value?.calculation?.submittedAt ?? Infinity).map(
    ({ id, entry }) =>
      `<tr><td><code>${shown(id)}</code></td><td>${shown(entry?.value?.state ?? "")}</td><td>${isoTime(entry?.value?.calculation?.submittedAt)}</td><td>${shown(entry?.value?.calculation?.description ?? "")}</td><td>${shown(entry?.value?.calculation?.progress ?? "")}</td></tr>`,
  );

  const sessionIds = target.trackedSessionIds();
  const sessions = sessionIds.map((id) => ({ id, entry: target.sessionEntry(id) }));
  const sessionStates = counts(sessions.map((s) => s.entry?.value?.state ?? "PENDING"));

  // Newest failure first (completion time negated, so the smallest key is the latest): the cache keeps a failed
  // calculation's answer when it settles.
  const failed = watched.filter((w) => w.entry?.value?.state === "FAILED");
  const failedRows = smallestBy(failed, WORST_FEW, (w) => -(w.entry?.value?.calculation?.completedAt ?? -Infinity)).map(
    ({ id, entry }) =>
      `<tr><td><code>${shown(id)}</code></td><td>${shown(entry?.value?.workgroup ?? "")}</td><td><code>${shown(entry?.value?.calculation?.sessionId ?? "")}</code></td><td>${isoTime(entry?.value?.calculation?.completedAt)}</td><td>${shown(entry?.value?.calculation?.description ?? "")}</td><td>${reasonText(entry?.value?.calculation?.stateChangeReason)}</td></tr>`,
  );

  const sessionsFailing = sessions.filter((s) => s.entry?.error !== undefined);
  const sessionFailingRows = smallestBy(sessionsFailing, WORST_FEW, (s) => s.entry?.refreshedAt ?? -Infinity).map(
    ({ id, entry }) =>
      `<tr><td><code>${shown(id)}</code></td><td>${shown(entry?.error?.code ?? "")}</td><td>${shown(entry?.error?.message ?? "")}</td><td>${isoTime(entry?.refreshedAt)}</td></tr>`,
  );
  const inState = (state: string) => sessions.filter((s) => s.entry?.value?.state === state);
  const sessionRow = (extra: (session: Session) => string) => (s: { id: string; entry: SessionEntry | undefined }) => {
    const session = s.entry?.value;
    return session === undefined
      ? ""
      : `<tr><td><code>${shown(s.id)}</code></td><td>${shown(session.workgroup)}</td><td>${shown(session.description)}</td>${extra(session)}</tr>`;
  };
  const failedSessions = inState("FAILED");
  const failedSessionRows = smallestBy(failedSessions, WORST_FEW, (s) => -(s.entry?.value?.endedAt ?? -Infinity)).map(
    sessionRow((session) => `<td>${isoTime(session.endedAt)}</td><td>${reasonText(session.stateChangeReason)}</td>`),
  );
  const degraded = inState("DEGRADED");
  const degradedRows = smallestBy(degraded, WORST_FEW, (s) => s.entry?.value?.lastModifiedAt ?? Infinity).map(
    sessionRow((session) => `<td>${isoTime(session.lastModifiedAt)}</td><td>${reasonText(session.stateChangeReason)}</td>`),
  );
  const idle = inState("IDLE");
  const idleRows = smallestBy(idle, WORST_FEW, (s) => s.entry?.value?.idleSince ?? Infinity).map(
    sessionRow(
      (session) =>
        `<td>${isoTime(session.idleSince)}</td><td>${
          session.coordinatorDpuSize === undefined || session.defaultExecutorDpuSize === undefined
            ? "unknown"
            : session.coordinatorDpuSize + session.defaultExecutorDpuSize
        }</td>`,
    ),
  );

  const discovery = target.discoveryStatus();
  const discoveryText = !discovery.enabled
    ? "off (only the listed calculations are watched)"
    : discovery.lastRun === undefined
      ? "not run yet"
      : `last run at ${isoTime(discovery.lastRun.at)}, took ${discovery.lastRun.durationSeconds.toFixed(3)} s, ${
          discovery.lastRun.failed ? "<strong>failed</strong> (a list call failed; what was known stays)" : "succeeded"
        }, found ${discovery.lastRun.calculations} calculations`;

  return `<section>
<h2>${name === undefined ? "Target" : `Target ${shown(name)}`}</h2>
${name === undefined ? "" : `<p><a href="/metrics?target=${escapeHtml(encodeURIComponent(name))}">Metrics of target ${shown(name)}</a></p>`}
<p>Watching ${ids.length} calculation execution${ids.length === 1 ? "" : "s"} and ${sessionIds.length} sessions.</p>
<p>Discovery: ${discoveryText}.</p>
${countTable("Calculations by state", byState, [...CALCULATION_STATES, "PENDING"])}
${countTable("Sessions by state", sessionStates, [])}
<h3>Failing to refresh (${failing.length}${failing.length > WORST_FEW ? `, the ${WORST_FEW} failing longest shown` : ""})</h3>
${
  failingRows.length === 0
    ? "<p>None.</p>"
    : `<table><tr><th>Calculation</th><th>Error</th><th>Reason</th><th>Failing since</th><th>Last good answer</th></tr>${failingRows.join("")}</table>`
}
<h3>Failed calculations (${failed.length}${failed.length > WORST_FEW ? `, the ${WORST_FEW} latest shown` : ""})</h3>
${table(["Calculation", "Workgroup", "Session", "Completed", "Description", "Reason"], failedRows)}
<h3>Sessions failing to refresh (${sessionsFailing.length}${sessionsFailing.length > WORST_FEW ? `, the ${WORST_FEW} failing longest shown` : ""})</h3>
${table(["Session", "Error", "Reason", "Last good answer"], sessionFailingRows)}
<h3>FAILED sessions (${failedSessions.length}${failedSessions.length > WORST_FEW ? `, the ${WORST_FEW} latest shown` : ""})</h3>
${table(["Session", "Workgroup", "Description", "Ended", "Reason"], failedSessionRows)}
<h3>DEGRADED sessions (${degraded.length}${degraded.length > WORST_FEW ? `, the ${WORST_FEW} degraded longest shown` : ""})</h3>
${table(["Session", "Workgroup", "Description", "Since", "Reason"], degradedRows)}
<h3>Idle sessions, longest idle first (${idle.length}${idle.length > WORST_FEW ? `, the ${WORST_FEW} idle longest shown` : ""})</h3>
${table(["Session", "Workgroup", "Description", "Idle since", "DPUs held (coordinator and executor)"], idleRows)}
<h3>Unfinished (${unfinished.length}${unfinished.length > WORST_FEW ? `, the ${WORST_FEW} oldest shown` : ""})</h3>
${
  unfinishedRows.length === 0
    ? "<p>None.</p>"
    : `<table><tr><th>Calculation</th><th>State</th><th>Submitted</th><th>Description</th><th>Progress</th></tr>${unfinishedRows.join("")}</table>`
}
</section>`;
}

/**
 * The landing page, as blackbox_exporter's shows its recent probes: what a
 * person checks first when a dashboard looks wrong. Counts and the worst
 * few only, so it stays small at 100,000 calculations; every text from
 * Athena or the config is escaped; no scripts or external assets.
 */
export async function statusPage(targets: Targets, processMetrics: ProcessMetrics): Promise<string> {
  const reloadOk = (await processMetrics.configReloadSuccessful.get()).values[0]?.value === 1;
  const reloadAt = (await processMetrics.configReloadTimestamp.get()).values[0]?.value;
  const failure = processMetrics.lastReloadFailure;
  const single = targets.single;
  const sections =
    single !== undefined
      ? [targetSection(undefined, single)]
      : targets.names().flatMap((name) => {
          const target = targets.get(name);
          return target === undefined ? [] : [targetSection(name, target)];
        });
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Athena Calculation Exporter</title>
<style>table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}caption{text-align:left;font-weight:bold}</style>
</head>
<body>
<h1>Athena Calculation Exporter</h1>
<p>Version ${escapeHtml(VERSION)}.</p>
<p>Configuration: ${
    reloadOk
      ? "loaded"
      : `<strong>the last reload failed</strong>${
          failure === undefined ? "" : ` at ${isoTime(failure.at)}: <code class="reload-error">${shown(failure.reason)}</code>`
        }; the previous configuration is in use`
  } (last successful load at ${isoTime(reloadAt)}).</p>
<ul>
<li><a href="/metrics">Metrics${single === undefined ? " of the exporter itself" : ""}</a></li>
<li><a href="/-/healthy">Health</a></li>
<li><a href="/-/ready">Readiness</a></li>
</ul>
${sections.join("\n")}
</body>
</html>
`;
}
