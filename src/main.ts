#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";

// A pod's memory limit must cover the peak, and the peak is garbage: a cold start's
// thousands of SDK calls let V8 grow its heap to several times what stays live before
// it collects. V8's memory-saving mode collects sooner (README, "Sizing memory").
// Set before the rest of the exporter is loaded, so that all of it runs under it.
setFlagsFromString("--optimize-for-size");
const { main } = await import("./cli/cli.js");

main({ name: "athena-calculation-exporter" });
