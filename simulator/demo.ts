#!/usr/bin/env node
import { main } from "../src/cli/cli.js";
import type { ExporterConfig } from "../src/config/config.js";
import { runDemoStream } from "./demo-stream.js";
import { loadDemoWorkload } from "./demo-workload.js";
import { AthenaSimulator } from "./server.js";

// `npm run demo`: the exporter, with every flag of `npm start`, against the
// simulator with a moving workload, so everything works without AWS.
main({
  name: "athena-calculation-exporter-demo",
  extend: async () => {
    const simulator = new AthenaSimulator({ latencyMs: [5, 30] });
    loadDemoWorkload(simulator.state);
    // The scripted calculations of config.yaml settle in minutes; the stream keeps the demo moving for good.
    const stopStream = runDemoStream(simulator);
    const simulatorUrl = await simulator.start(0, "127.0.0.1");
    return {
      adjustConfig: (c: ExporterConfig): ExporterConfig => ({
        ...c,
        // Named targets carry their own aws block: each is pointed at the simulator too.
        targets: c.targets?.map((t) => ({
          ...t,
          config: {
            ...t.config,
            aws: { ...t.config.aws, endpoint: simulatorUrl, stsEndpoint: simulatorUrl, region: t.config.aws.region ?? "us-east-1" },
          },
        })),
        // STS too (workgroup tags need the account, from GetCallerIdentity).
        aws: { ...c.aws, endpoint: simulatorUrl, stsEndpoint: simulatorUrl, region: c.aws.region ?? "us-east-1" },
        // Every workgroup of the simulator, so that its sessions (idle, degraded, failed, on
        // Spark 3.5) show beside the calculations config.yaml lists.
        discovery: c.discovery ?? {
          workgroups: "all",
          intervalMs: 15_000,
          lookbackMs: 86_400_000,
          retentionMs: 6 * 3_600_000,
          workgroupTags: ["team", "cost-center"],
        },
      }),
      // The simulator checks no signature; these are not credentials of any account.
      credentials: { accessKeyId: "ASIMULATORDEMOKEY", secretAccessKey: "simulator-demo-secret" },
      banner: (running) =>
        [
          "",
          `  Athena simulator: ${simulatorUrl}`,
          `  Exporter metrics: ${running.url}/metrics`,
          "",
          "  Watching the calculations of config.yaml as they queue, run, complete, fail and get canceled,",
          "  and, found by discovery, a workload that never stops: new sessions and calculations every minute,",
          "  failures with and without reasons, sessions going idle, ending and failing, throttling now and then.",
          "  Press Ctrl+C to stop.",
          "",
          "",
        ].join("\n"),
      close: () => {
        stopStream();
        return simulator.stop();
      },
    };
  },
});
