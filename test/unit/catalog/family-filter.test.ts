import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/config.js";
import { FAMILY_NAMES } from "../../../src/catalog/family-filter.js";
import { formatConfigError } from "../../../src/config/config-file.js";
import { FILTERABLE_FAMILIES, hiddenFamilies } from "../../../src/catalog/family-filter.js";
import { ALL_FAMILIES } from "../../../src/catalog/families.js";

const ID = "0f6b2b3e-1111-4c4b-9d07-6a8c0c2b5c11";

function refused(metrics: string): string {
  const parsed = parseConfig(`calculations: [${ID}]\nmetrics: ${metrics}\n`, "config.yaml", FAMILY_NAMES);
  if (parsed.ok) assert.fail(`expected metrics: ${metrics} to be refused`);
  return formatConfigError(parsed.error);
}

function accepted(metrics: string): ReadonlySet<string> {
  const parsed = parseConfig(`calculations: [${ID}]\nmetrics: ${metrics}\n`, "config.yaml", FAMILY_NAMES);
  assert.ok(parsed.ok, parsed.ok ? "" : formatConfigError(parsed.error));
  return hiddenFamilies(parsed.value.metrics);
}

describe("metrics.allow / metrics.deny in the config", () => {
  it("hides nothing without the block", () => {
    const parsed = parseConfig(`calculations: [${ID}]\n`, "config.yaml", FAMILY_NAMES);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.metrics, { allow: [], deny: [] });
    assert.equal(hiddenFamilies(parsed.value.metrics).size, 0);
  });

  it("hides exactly the denied families, by name or by a whole-name regular expression", () => {
    assert.deepEqual([...accepted("{deny: [athena_calculation_info]}")], ["athena_calculation_info"]);
    assert.deepEqual(
      [...accepted("{deny: ['athena_session_.*_timestamp_seconds']}")],
      [
        "athena_session_start_timestamp_seconds",
        "athena_session_end_timestamp_seconds",
        "athena_session_idle_since_timestamp_seconds",
        "athena_session_last_modified_timestamp_seconds",
        "athena_session_last_refresh_timestamp_seconds",
      ],
    );
  });

  it("anchors each entry at both ends, as kube-state-metrics does: a name never matches a longer one", () => {
    const hidden = accepted("{deny: [athena_calculation_state]}");
    assert.deepEqual([...hidden], ["athena_calculation_state"], "athena_calculation_state_reason_info stays");
  });

  it("with allow, shows only the allowed families and the exporter's own health", () => {
    const hidden = accepted("{allow: [athena_calculation_state, 'athena_calculations_.*']}");
    const shown = FILTERABLE_FAMILIES.filter((name) => !hidden.has(name));
    assert.deepEqual(shown, [
      "athena_calculation_state",
      "athena_calculations_finished_total",
      "athena_calculations_dpu_execution_seconds_total",
      "athena_calculations_finished_duration_seconds",
      "athena_calculations_finished_dpu_execution_seconds",
    ]);
    for (const name of ALL_FAMILIES.map((f) => f.name).filter((n) => n.startsWith("athena_exporter_"))) {
      assert.equal(hidden.has(name), false, `${name} is never hidden`);
    }
  });

  it("never hides the exporter's own health, even for a pattern that matches it too", () => {
    const hidden = accepted("{deny: ['athena_.*']}");
    assert.equal(hidden.size, FILTERABLE_FAMILIES.length);
    assert.equal(hidden.has("athena_exporter_scrape_duration_seconds"), false);
    assert.equal(hidden.has("athena_exporter_config_last_reload_successful"), false);
  });

  it("refuses an unknown name, naming the entry and the closest family names", () => {
    assert.equal(
      refused("{deny: [athena_calculation_up, athena_calcuation_info]}"),
      'config.yaml: metrics.deny[1]: "athena_calcuation_info" is not a family name and matches none as a regular expression; ' +
        "close names: athena_calculation_info, athena_calculation_up, athena_calculation_state",
    );
  });

  it("refuses a regular expression that matches no family, and one that does not compile", () => {
    assert.match(refused("{allow: ['athena_job_.*']}"), /metrics\.allow\[0\]: "athena_job_\.\*" is not a family name and matches none/);
    assert.match(
      refused("{allow: ['athena_(session']}"),
      /metrics\.allow\[0\]: "athena_\(session" is not a valid regular expression \(.+\)/,
    );
  });

  it("refuses an entry that names only the exporter's own health, saying it is never filtered", () => {
    for (const name of [
      "athena_exporter_scrape_duration_seconds",
      "athena_exporter_.*",
      "process_cpu_seconds_total",
      "nodejs_heap_size_total_bytes",
    ]) {
      assert.equal(
        refused(`{deny: ['${name}']}`),
        `config.yaml: metrics.deny[0]: ${JSON.stringify(name)} names the exporter's own health, which is always exposed and cannot be filtered`,
      );
    }
  });

  it("refuses allow and deny together, as kube-state-metrics does", () => {
    assert.equal(
      refused("{allow: [athena_calculation_state], deny: [athena_calculation_info]}"),
      "config.yaml: metrics: allow and deny cannot both be set: list the families to keep (allow) or the families to drop (deny)",
    );
  });

  it("refuses an empty list, an unknown key and a list of non-strings by name", () => {
    assert.equal(refused("{allow: []}"), "config.yaml: metrics.allow: must list at least 1 item");
    assert.equal(refused("{drop: [athena_calculation_info]}"), "config.yaml: metrics.drop: unknown key (check its spelling and nesting)");
    assert.match(
      refused("{deny: athena_calculation_info}"),
      /^config\.yaml: metrics\.deny: expected a list, got string "athena_calculation_info"$/,
    );
    assert.match(refused("{deny: [{name: x}]}"), /^config\.yaml: metrics\.deny\[0\]: expected a string, got a mapping$/);
  });

  it("applies to every target: the block is top-level and each target inherits it", () => {
    const parsed = parseConfig(
      `targets:\n  - name: a\n    calculations: [${ID}]\nmetrics: {deny: [athena_calculation_info]}\n`,
      "config.yaml",
      FAMILY_NAMES,
    );
    assert.ok(parsed.ok, parsed.ok ? "" : formatConfigError(parsed.error));
    assert.deepEqual(parsed.value.targets?.[0]?.config.metrics.deny, ["athena_calculation_info"]);
  });
});
