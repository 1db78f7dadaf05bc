import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { requireBinary } from "../helpers.js";
import { readAlertRules } from "./mixin.js";
import { mixinConfig } from "../../mixin/config.js";
import { ruleGroups } from "../../mixin/rules.js";

/** The promtool unit test files: one per evaluation interval. */
const PROMTOOL_TESTS = ["alerts.test.yml", "alerts-weekly.test.yml"];

function promtool(...args: string[]): string {
  return execFileSync(requireBinary("promtool"), args, { cwd: "prometheus", encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("alert rules", () => {
  it("pass promtool check rules", () => {
    const count = ruleGroups(mixinConfig).flatMap((g) => g.rules).length;
    assert.match(promtool("check", "rules", "alerts.yml"), new RegExp(`SUCCESS: ${count} rules found`));
  });

  it("pass their promtool unit tests: each alert fires when it should and stays quiet when it should not", () => {
    assert.match(promtool("test", "rules", "alerts.test.yml"), /SUCCESS/);
  });

  it("pass their week-long promtool unit tests: the rules that compare with a day or a week before", () => {
    assert.match(promtool("test", "rules", "alerts-weekly.test.yml"), /SUCCESS/);
  });

  it("ship an example prometheus.yml that promtool check config accepts", () => {
    assert.match(promtool("check", "config", "prometheus.yml"), /is valid prometheus config file syntax/);
  });

  it("ship a multi-target prometheus.yml that promtool check config accepts", () => {
    assert.match(promtool("check", "config", "prometheus-multi-target.yml"), /is valid prometheus config file syntax/);
  });

  it("give every alert a for, a severity, a summary, a description and a runbook entry", async () => {
    const { rules } = await readAlertRules();
    const runbook = await readFile("prometheus/runbook.md", "utf8");
    for (const rule of rules) {
      assert.ok(rule.for !== undefined, `${rule.alert} has no for:`);
      assert.ok(["warning", "critical"].includes(rule.labels?.severity ?? ""), `${rule.alert} has no severity`);
      assert.ok(rule.annotations?.summary, `${rule.alert} has no summary`);
      assert.ok(rule.annotations.description, `${rule.alert} has no description`);
      const anchor = rule.alert.toLowerCase();
      assert.ok(rule.annotations.runbook_url?.endsWith(`runbook.md#${anchor}`), `${rule.alert} runbook_url`);
      assert.ok(runbook.includes(`\n## ${rule.alert}\n`), `runbook.md has no section for ${rule.alert}`);
    }
  });

  it("have a unit test for every alert", async () => {
    const { rules } = await readAlertRules();
    const tests = (await Promise.all(PROMTOOL_TESTS.map((file) => readFile(`prometheus/${file}`, "utf8")))).join("\n");
    for (const rule of rules) assert.ok(tests.includes(`alertname: ${rule.alert}\n`), `no promtool test for ${rule.alert}`);
  });
});
