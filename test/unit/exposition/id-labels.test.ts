import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withIdLabels } from "../../../src/exposition/id-labels.js";

interface Pod {
  readonly name: string;
  readonly known: { readonly namespace: string; readonly phase: string; readonly restarts: number } | undefined;
}

// kube-state-metrics' wrapConfigMapFunc, here for a made-up resource: each family names only its own labels.
const podFamily = withIdLabels(["namespace", "pod"], (pod: Pod) =>
  pod.known === undefined ? undefined : { known: pod.known, ids: [pod.known.namespace, pod.name] },
);

const phase = podFamily({
  name: "pod_status_phase",
  type: "gauge",
  help: "The pod's phase.",
  doc: "the pod's phase",
  labelNames: ["phase"],
  generate: ({ phase: p }) => ["Pending", "Running"].map((each) => [[each], each === p ? 1 : 0]),
});

const restarts = podFamily({
  name: "pod_restarts",
  type: "gauge",
  help: "Restarts.",
  doc: "restarts",
  labelNames: [],
  generate: ({ restarts: r }) => [[[], r]],
});

describe("withIdLabels", () => {
  it("puts the resource's ID labels before each family's own, in the declared order", () => {
    const pod: Pod = { name: 'web-"1"', known: { namespace: "prod", phase: "Running", restarts: 3 } };
    assert.deepEqual(phase.labelNames, ["namespace", "pod", "phase"]);
    assert.equal(
      phase.render(pod),
      'pod_status_phase{namespace="prod",pod="web-\\"1\\"",phase="Pending"} 0\n' +
        'pod_status_phase{namespace="prod",pod="web-\\"1\\"",phase="Running"} 1\n',
    );
    assert.equal(restarts.render(pod), 'pod_restarts{namespace="prod",pod="web-\\"1\\""} 3\n');
  });

  it("gives no sample for a resource it knows nothing of yet", () => {
    const pending: Pod = { name: "web-2", known: undefined };
    assert.equal(phase.render(pending), "");
    assert.equal(restarts.render(pending), "");
  });
});
