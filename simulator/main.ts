#!/usr/bin/env node
import { parseArgs } from "node:util";
import { runDemoStream } from "./demo-stream.js";
import { loadDemoWorkload } from "./demo-workload.js";
import { AthenaSimulator } from "./server.js";

// `npm run simulator -- --port=4566`: the demo workload on Athena's wire protocol.
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "4566" },
    host: { type: "string", default: "127.0.0.1" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "Usage: athena-simulator [--port=4566] [--host=127.0.0.1]\n\nServes the demo workload on the Athena API (AWS JSON 1.1).\n",
  );
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`error: --port: "${values.port}" is not a port number\n`);
  process.exit(2);
}
const simulator = new AthenaSimulator({ latencyMs: [5, 30] });
loadDemoWorkload(simulator.state);
runDemoStream(simulator);
const url = await simulator.start(port, values.host);
process.stdout.write(`Athena simulator listening on ${url}\nPoint an AWS SDK at it with AWS_ENDPOINT_URL_ATHENA=${url}\n`);
const stop = (): void => {
  void simulator.stop().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
