import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { describe, it } from "node:test";
import { parseAllDocuments, parse } from "yaml";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Service, ServiceAccount } from "kubernetes-models/v1";
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { parseConfig } from "../../src/config/config.js";
import { parseFlags } from "../../src/cli/flags.js";
import { prometheusRule } from "../../deploy/generate-prometheusrule.js";

const DIR = "deploy/kubernetes";

interface Manifest {
  readonly kind: string;
  readonly metadata?: { name?: string };
  readonly [key: string]: unknown;
}

async function manifests(): Promise<{ file: string; doc: Manifest }[]> {
  const out: { file: string; doc: Manifest }[] = [];
  for (const file of (await readdir(DIR)).filter((f) => f.endsWith(".yaml")).sort()) {
    for (const doc of parseAllDocuments(await readFile(`${DIR}/${file}`, "utf8"))) out.push({ file, doc: doc.toJS() as Manifest }); // validated below
  }
  return out;
}

// Each model checks its object against the Kubernetes or prometheus-operator OpenAPI schema.
const MODELS: Readonly<Record<string, (doc: Manifest) => { validate(): void }>> = {
  StatefulSet: (d) => new StatefulSet(d),
  Service: (d) => new Service(d),
  ConfigMap: (d) => new ConfigMap(d),
  ServiceAccount: (d) => new ServiceAccount(d),
  ServiceMonitor: (d) => new ServiceMonitor(d as never),
  PrometheusRule: (d) => new PrometheusRule(d as never),
};

describe("Kubernetes manifests", () => {
  it("validate against the Kubernetes and prometheus-operator schemas", async () => {
    const all = await manifests();
    assert.deepEqual(all.map((m) => m.doc.kind).sort(), [
      "ConfigMap",
      "PrometheusRule",
      "Service",
      "ServiceAccount",
      "ServiceMonitor",
      "StatefulSet",
    ]);
    for (const { file, doc } of all) {
      const model = MODELS[doc.kind];
      assert.ok(model, `${file}: no schema for ${doc.kind}`);
      assert.doesNotThrow(() => model(doc).validate(), `${file} is not a valid ${doc.kind}`);
    }
  });

  it("carry a PrometheusRule generated from prometheus/alerts.yml, not a hand copy", async () => {
    assert.equal(await readFile(`${DIR}/prometheusrule.yaml`, "utf8"), await prometheusRule(), "run npm run generate:k8s");
    const rule = parse(await readFile(`${DIR}/prometheusrule.yaml`, "utf8")) as { spec: unknown };
    assert.deepEqual(rule.spec, parse(await readFile("prometheus/alerts.yml", "utf8")));
  });

  it("derive each pod's shard from its ordinal, with as many shards as replicas", async () => {
    const set = (await manifests()).find((m) => m.doc.kind === "StatefulSet")?.doc as unknown as {
      spec: {
        replicas: number;
        template: { spec: { containers: { args: string[]; env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[] }[] } };
      };
    };
    const container = set.spec.template.spec.containers[0];
    assert.ok(container);
    const shardEnv = container.env.find((e) => e.name === "SHARD");
    assert.equal(shardEnv?.valueFrom?.fieldRef?.fieldPath, "metadata.labels['apps.kubernetes.io/pod-index']");
    const args = container.args.map((a) => a.replace("$(SHARD)", "2"));
    const flags = parseFlags(args);
    assert.ok(flags.ok, flags.ok ? "" : flags.error);
    assert.equal(flags.value.totalShards, set.spec.replicas);
  });

  it("run the container unprivileged on a read-only root filesystem", async () => {
    const set = (await manifests()).find((m) => m.doc.kind === "StatefulSet")?.doc as unknown as {
      spec: {
        template: {
          spec: {
            securityContext: { runAsNonRoot: boolean };
            containers: { securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean } }[];
          };
        };
      };
    };
    assert.equal(set.spec.template.spec.securityContext.runAsNonRoot, true);
    const container = set.spec.template.spec.containers[0];
    assert.ok(container);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  });

  it("ship a ConfigMap whose config.yaml the exporter accepts", async () => {
    const map = (await manifests()).find((m) => m.doc.kind === "ConfigMap")?.doc as unknown as { data: { "config.yaml": string } };
    const parsed = parseConfig(map.data["config.yaml"], "configmap");
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error.problems.join("; "));
  });
});
