import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments, parse } from "yaml";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Service, ServiceAccount } from "kubernetes-models/v1";
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { parseConfig } from "../../src/config/config.js";
import { FAMILY_NAMES } from "../../src/catalog/family-filter.js";
import { parseFlags } from "../../src/cli/flags.js";
import { prometheusRule } from "../../deploy/generate-prometheusrule.js";

const DIR = "deploy/kubernetes";
/** What needs prometheus-operator's CRDs, apart so that the rest applies on any cluster. */
const OPERATOR_DIR = `${DIR}/prometheus-operator`;

interface Manifest {
  readonly kind: string;
  readonly metadata?: { name?: string };
  readonly [key: string]: unknown;
}

/** The Kubernetes objects of a directory, kustomization.yaml aside. */
async function manifestsIn(dir: string): Promise<{ file: string; doc: Manifest }[]> {
  const out: { file: string; doc: Manifest }[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort()) {
    for (const doc of parseAllDocuments(await readFile(`${dir}/${file}`, "utf8"))) out.push({ file, doc: doc.toJS() as Manifest }); // validated below
  }
  return out;
}

async function manifests(): Promise<{ file: string; doc: Manifest }[]> {
  return [...(await manifestsIn(DIR)), ...(await manifestsIn(OPERATOR_DIR))];
}

interface Kustomization {
  resources: string[];
  replicas: { name: string; count: number }[];
  replacements: {
    source: { kind: string; name: string; fieldPath: string };
    targets: { select: { kind: string; name: string }; fieldPaths: string[] }[];
  }[];
}

interface StatefulSetShape {
  spec: {
    replicas: number;
    template: {
      spec: {
        automountServiceAccountToken?: boolean;
        containers: {
          name: string;
          image: string;
          args: string[];
          env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
        }[];
      };
    };
  };
}

async function statefulSet(): Promise<StatefulSetShape> {
  return (await manifests()).find((m) => m.doc.kind === "StatefulSet")?.doc as unknown as StatefulSetShape; // validated by the schema test
}

/** The exporter's flags in a pod of `set`: $(VAR) expanded from the container's env, as the kubelet does. */
function flagsOf(set: StatefulSetShape, ordinal: number): ReturnType<typeof parseFlags> {
  const container = set.spec.template.spec.containers[0];
  assert.ok(container);
  const env = new Map(container.env.map((e) => [e.name, e.value ?? (e.name === "SHARD" ? String(ordinal) : "")]));
  return parseFlags(container.args.map((a) => a.replace(/\$\((\w+)\)/g, (_, name: string) => env.get(name) ?? `$(${name})`)));
}

const README = (): Promise<string> => readFile("README.md", "utf8");

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
    assert.equal(await readFile(`${OPERATOR_DIR}/prometheusrule.yaml`, "utf8"), await prometheusRule(), "run npm run generate:k8s");
    const rule = parse(await readFile(`${OPERATOR_DIR}/prometheusrule.yaml`, "utf8")) as { spec: unknown };
    assert.deepEqual(rule.spec, parse(await readFile("prometheus/alerts.yml", "utf8")));
  });

  it("derive each pod's shard from its ordinal, with as many shards as replicas", async () => {
    const set = await statefulSet();
    const container = set.spec.template.spec.containers[0];
    assert.ok(container);
    const shardEnv = container.env.find((e) => e.name === "SHARD");
    assert.equal(shardEnv?.valueFrom?.fieldRef?.fieldPath, "metadata.labels['apps.kubernetes.io/pod-index']");
    const flags = flagsOf(set, 2);
    assert.ok(flags.ok, flags.ok ? "" : flags.error);
    assert.equal(flags.value.shard, 2);
    assert.equal(flags.value.totalShards, set.spec.replicas, "the plain StatefulSet's replicas and --total-shards differ");
  });

  it("set the shard count in one place: kustomization.yaml's replicas, copied into --total-shards", async () => {
    const kustomization = parse(await readFile(`${DIR}/kustomization.yaml`, "utf8")) as Kustomization;
    const set = await statefulSet();
    assert.deepEqual(kustomization.replicas, [{ name: "athena-calculation-exporter", count: set.spec.replicas }]);
    const [replacement] = kustomization.replacements;
    assert.deepEqual(replacement?.source, { kind: "StatefulSet", name: "athena-calculation-exporter", fieldPath: "spec.replicas" });
    assert.deepEqual(replacement.targets, [
      {
        select: { kind: "StatefulSet", name: "athena-calculation-exporter" },
        fieldPaths: ["spec.template.spec.containers.[name=exporter].env.[name=TOTAL_SHARDS].value"],
      },
    ]);
    const container = set.spec.template.spec.containers.find((c) => c.name === "exporter");
    assert.ok(container?.args.includes("--total-shards=$(TOTAL_SHARDS)"), "--total-shards does not read TOTAL_SHARDS");
    assert.ok(!(container?.args ?? []).some((a) => /^--total-shards=\d/.test(a)), "a shard count written by hand in the args");
  });

  it("render with kustomize so that changing replicas changes --total-shards (kubectl kustomize, when kubectl is installed)", async (t) => {
    const kubectl = spawnSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" }).stdout.trim();
    if (kubectl === "") {
      // kubectl is not a Debian package; the structural test above still runs everywhere.
      t.skip("kubectl is not installed");
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), "ace-kustomize-"));
    try {
      await cp(DIR, dir, { recursive: true });
      const file = join(dir, "kustomization.yaml");
      await writeFile(file, (await readFile(file, "utf8")).replace(/count: \d+/, "count: 5"));
      const rendered = spawnSync(kubectl, ["kustomize", dir], { encoding: "utf8" });
      assert.equal(rendered.status, 0, rendered.stderr);
      const set = parseAllDocuments(rendered.stdout)
        .map((d) => d.toJS() as Manifest)
        .find((d) => d.kind === "StatefulSet") as unknown as StatefulSetShape;
      assert.equal(set.spec.replicas, 5);
      const flags = flagsOf(set, 4);
      assert.ok(flags.ok, flags.ok ? "" : flags.error);
      assert.equal(flags.value.totalShards, 5);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it("apply without prometheus-operator's CRDs: kubectl apply -k takes every plain manifest and no operator kind", async () => {
    const kustomization = parse(await readFile(`${DIR}/kustomization.yaml`, "utf8")) as Kustomization;
    const plain = await manifestsIn(DIR);
    assert.deepEqual([...kustomization.resources].sort(), [...new Set(plain.map((m) => m.file))].sort());
    for (const { file, doc } of plain)
      assert.doesNotMatch(String(doc.apiVersion), /monitoring\.coreos\.com/, `${file} needs the operator's CRDs`);
    for (const { file, doc } of await manifestsIn(OPERATOR_DIR)) assert.match(String(doc.apiVersion), /^monitoring\.coreos\.com\//, file);
    const readme = await README();
    assert.ok(readme.includes("kubectl apply -k deploy/kubernetes/"), "README does not apply the plain manifests");
    assert.ok(readme.includes("kubectl apply -f deploy/kubernetes/prometheus-operator/"), "README does not apply the operator's objects");
  });

  it("label the ServiceMonitor and PrometheusRule with release, and README says how to override it", async () => {
    const operatorObjects = await manifestsIn(OPERATOR_DIR);
    assert.deepEqual(operatorObjects.map((m) => m.doc.kind).sort(), ["PrometheusRule", "ServiceMonitor"]);
    for (const { doc } of operatorObjects) {
      const labels = (doc.metadata as { labels?: Record<string, string> }).labels ?? {};
      assert.equal(labels.release, "kube-prometheus-stack", `${doc.kind} has no release label`);
    }
    assert.ok(
      (await README()).includes("kubectl label --overwrite -f deploy/kubernetes/prometheus-operator/ release=YOUR_RELEASE"),
      "README does not say how to set another release",
    );
  });

  it("mount no service-account token, name placeholders as placeholders, and never call the image published", async () => {
    const set = await statefulSet();
    assert.equal(set.spec.template.spec.automountServiceAccountToken, false);
    const account = (await manifests()).find((m) => m.doc.kind === "ServiceAccount")?.doc as unknown as {
      automountServiceAccountToken: boolean;
      metadata: { annotations: Record<string, string> };
    };
    assert.equal(account.automountServiceAccountToken, false);
    assert.match(account.metadata.annotations["eks.amazonaws.com/role-arn"] ?? "", /PLACEHOLDER/);
    assert.match(set.spec.template.spec.containers[0]?.image ?? "", /^REGISTRY\.EXAMPLE\//);
    const readme = await README();
    assert.doesNotMatch(readme, /already in the manifest/);
    assert.match(readme, /docker push REGISTRY\.EXAMPLE\/athena-calculation-exporter:0\.1\.0/);
    assert.match(readme, /PLACEHOLDER/);
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
    const parsed = parseConfig(map.data["config.yaml"], "configmap", FAMILY_NAMES);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error.problems.join("; "));
  });
});
