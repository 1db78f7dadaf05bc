#!/usr/bin/env node
import { startExporter } from "./app.js";
import { loadConfig, type ExporterConfig } from "./config.js";
import { formatConfigError } from "./config-file.js";
import { parseFlags } from "./flags.js";
import { createLogger } from "./logger.js";
import { loadDemoWorkload } from "./simulator/demo-workload.js";
import { AthenaSimulator } from "./simulator/server.js";

// `npm run demo`: the simulator with a moving workload, and the exporter
// against it with config.yaml, so everything works without AWS.
const flags = parseFlags(process.argv.slice(2));
if (!flags.ok) {
  process.stderr.write(`error: ${flags.error}\n`);
  process.exit(2);
}
const logger = createLogger(flags.value.logLevel);
const config = await loadConfig(flags.value.configFile);
if (!config.ok) {
  process.stderr.write(`error: invalid configuration in ${formatConfigError(config.error)}\n`);
  process.exit(1);
}

const simulator = new AthenaSimulator({ latencyMs: [5, 30] });
loadDemoWorkload(simulator.state);
const simulatorUrl = await simulator.start(0, "127.0.0.1");

const atSimulator = (c: ExporterConfig): ExporterConfig => ({
  ...c,
  aws: { ...c.aws, endpoint: simulatorUrl, region: c.aws.region ?? "us-east-1" },
});
const running = await startExporter(
  atSimulator(config.value),
  { host: flags.value.listenHost, port: flags.value.listenPort },
  {
    logger,
    configFile: flags.value.configFile,
    adjustConfig: atSimulator,
    // The simulator checks no signature; these are not credentials of any account.
    credentials: { accessKeyId: "ASIMULATORDEMOKEY", secretAccessKey: "simulator-demo-secret" },
  },
);
process.on("SIGHUP", () => {
  void running.reload();
});

process.stdout.write(
  [
    "",
    `  Athena simulator: ${simulatorUrl}`,
    `  Exporter metrics: ${running.url}/metrics`,
    "",
    "  Watching the demo calculations of config.yaml as they queue, run, complete, fail and get canceled.",
    "  Press Ctrl+C to stop.",
    "",
  ].join("\n"),
);

const stop = (): void => {
  void Promise.all([running.close(), simulator.stop()]).then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
