#!/usr/bin/env node
import { main } from "./cli.js";

main({ name: "athena-calculation-exporter" });
