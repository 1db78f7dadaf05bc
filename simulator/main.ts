#!/usr/bin/env node
import { parseArgs } from "node:util";
import { runDemoStream } from "./demo-stream.js";
import { loadDemoWorkload } from "./demo-workload.js";
import { AthenaSimulator } from "./server.js";

// `npm run simulator -- --port=4566`: the demo workload on Athena's wire protocol.
// Every way it can fail to start (bad flags, a busy port) is one line on stderr
// and a non-zero exit, as the exporter's own command line does.

const USAGE = "Usage: athena-simulator [--port=4566] [--host=127.0.0.1]\n\nServes the demo workload on the Athena API (AWS JSON 1.1).\n";

function fail(message: string, code: number): never {
  process.stderr.write(`error: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(code);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string", default: "4566" },
      host: { type: "string", default: "127.0.0.1" },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (e) {
  fail(`${e instanceof Error ? e.message : String(e)} (see --help)`, 2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = Number(values.port);
if (!/^\d+$/.test(values.port) || port > 65535) fail(`--port: "${values.port}" is not a port number`, 2);
const simulator = new AthenaSimulator({ latencyMs: [5, 30] });
loadDemoWorkload(simulator.state);
runDemoStream(simulator);
let url: string;
try {
  url = await simulator.start(port, values.host);
} catch (e) {
  fail(e instanceof Error ? e.message : String(e), 1);
}
process.stdout.write(`Athena simulator listening on ${url}\nPoint an AWS SDK at it with AWS_ENDPOINT_URL_ATHENA=${url}\n`);
const stop = (): void => {
  void simulator.stop().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
