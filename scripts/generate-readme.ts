/** npm run generate:readme: rewrites README's metric table from the family lists (test/readme.test.ts fails when it is stale). */
import { readFile, writeFile } from "node:fs/promises";
import { ALL_FAMILIES } from "../src/catalog/families.js";
import { TABLE_END, TABLE_START, withMetricsTable } from "../src/catalog/metrics-table.js";

const path = new URL("../README.md", import.meta.url);
const updated = withMetricsTable(await readFile(path, "utf8"), ALL_FAMILIES);
if (updated === undefined) {
  console.error(`README.md lacks ${TABLE_START} … ${TABLE_END}`);
  process.exitCode = 1;
} else {
  await writeFile(path, updated);
}
