#!/usr/bin/env node
import { main } from "./cli/cli.js";

main({ name: "athena-calculation-exporter" });
