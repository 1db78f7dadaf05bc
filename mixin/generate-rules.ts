/**
 * npm run generate:rules: writes prometheus/alerts.yml from mixin/config.ts
 * and mixin/rules.ts, then the Kubernetes PrometheusRule from it, so neither
 * is a hand copy (test/mixin/rules-config.test.ts fails when alerts.yml is stale).
 */
import { writeFile } from "node:fs/promises";
import { Document, isMap, isSeq } from "yaml";
import { prometheusRule } from "../deploy/generate-prometheusrule.js";
import { mixinConfig } from "./config.js";
import { ruleGroups, type AlertRule, type RecordingRule, type RuleGroup } from "./rules.js";

const HEADER = [
  " Alert rules for athena-calculation-exporter.",
  " Generated from mixin/config.ts (thresholds, selectors, runbook URL) and",
  " mixin/rules.ts by `npm run generate:rules`; do not edit: change the config",
  " and regenerate. Tested by alerts.test.yml (`promtool test rules`, run by `npm test`).",
].join("\n");

/** A comment's words in lines of at most 100 characters, each led by a space after YAML's `#`. */
function wrap(text: string): string {
  const lines: string[] = [];
  for (const word of text.split(" ")) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + word.length < 100) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(` ${word}`);
  }
  return lines.join("\n");
}

/** A rule as Prometheus reads it: `why` is for the comment. */
function withoutWhy(rule: AlertRule | RecordingRule): Record<string, unknown> {
  return Object.fromEntries(Object.entries(rule).filter(([key]) => key !== "why"));
}

/** The rules file's text: each rule's `why` becomes a comment above it. */
export function alertsYaml(groups: readonly RuleGroup[] = ruleGroups(mixinConfig)): string {
  const plain = { groups: groups.map((g) => ({ name: g.name, rules: g.rules.map(withoutWhy) })) };
  const doc = new Document(plain);
  doc.commentBefore = HEADER;
  const groupNodes = doc.get("groups");
  if (!isSeq(groupNodes)) throw new Error("groups is not a sequence");
  groups.forEach((group, g) => {
    const groupNode = groupNodes.items[g];
    const rules = isMap(groupNode) ? groupNode.get("rules") : undefined;
    if (!isSeq(rules)) throw new Error(`group ${group.name} has no rules sequence`);
    group.rules.forEach((rule, r) => {
      const node = rules.items[r];
      if (rule.why !== undefined && isMap(node)) node.commentBefore = wrap(rule.why);
    });
  });
  return doc.toString({ lineWidth: 0 });
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  await writeFile("prometheus/alerts.yml", alertsYaml());
  await writeFile("deploy/kubernetes/prometheusrule.yaml", await prometheusRule());
}
