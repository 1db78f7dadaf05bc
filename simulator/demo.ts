#!/usr/bin/env node
import { main } from "../src/cli/cli.js";
import type { ExporterConfig } from "../src/config/config.js";
import { loadDemoWorkload } from "./demo-workload.js";
import { AthenaSimulator } from "./server.js";

// `npm run demo`: the exporter, with every flag of `npm start`, against the
// simulator with a moving workload, so everything works without AWS.
main({
  name: "athena-calculation-exporter-demo",
  extend: async () => {
    const simulator = new AthenaSimulator({ latencyMs: [5, 30] });
    loadDemoWorkload(simulator.state);
    const simulatorUrl = await simulator.start(0, "127.0.0.1");
    return {
      adjustConfig: (c: ExporterConfig): ExporterConfig => ({
        ...c,
        aws: { ...c.aws, endpoint: simulatorUrl, region: c.aws.region ?? "us-east-1" },
      }),
      // The simulator checks no signature; these are not credentials of any account.
      credentials: { accessKeyId: "ASIMULATORDEMOKEY", secretAccessKey: "simulator-demo-secret" },
      banner: (running) =>
        [
          "",
          `  Athena simulator: ${simulatorUrl}`,
          `  Exporter metrics: ${running.url}/metrics`,
          "",
          "  Watching the demo calculations of config.yaml as they queue, run, complete, fail and get canceled.",
          "  Press Ctrl+C to stop.",
          "",
          "",
        ].join("\n"),
      close: () => simulator.stop(),
    };
  },
});
