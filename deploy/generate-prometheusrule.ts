/**
 * npm run generate:k8s: writes deploy/kubernetes/prometheusrule.yaml from
 * prometheus/alerts.yml, so the PrometheusRule is never a hand copy
 * (test/project/kubernetes.test.ts fails when they differ).
 * `npm run generate:rules` calls it after regenerating alerts.yml from
 * mixin/config.ts, so both follow the config in one step.
 */
import { readFile, writeFile } from "node:fs/promises";
import { parse, stringify } from "yaml";

export async function prometheusRule(): Promise<string> {
  const rules: unknown = parse(await readFile("prometheus/alerts.yml", "utf8"));
  const resource = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "athena-calculation-exporter", labels: { "app.kubernetes.io/name": "athena-calculation-exporter" } },
    spec: rules,
  };
  return `# Generated from prometheus/alerts.yml by \`npm run generate:k8s\`; do not edit.\n${stringify(resource, { lineWidth: 0 })}`;
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  await writeFile("deploy/kubernetes/prometheusrule.yaml", await prometheusRule());
}
