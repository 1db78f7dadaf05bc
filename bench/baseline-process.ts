/**
 * The static baselines in a process of their own, as the exporter is in
 * its own: a server in the bench's process answers without crossing the
 * process boundary that every request to the exporter crosses. On this
 * shared machine that crossing has cost from nothing to about 1 ms per
 * request at 10,000 calculations (the same pre-compressed bytes served
 * both ways, side by side: 2.9 against 2.0 ms in one run, 1.65 against
 * 1.69 ms in another). Run by startBaselines (gzip-baselines.ts),
 * never by hand: argv[2] is the file holding the uncompressed body; the
 * ports go back over IPC.
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { compressingServer, identityServer, precompressedServer } from "./gzip-baselines.js";

const file = process.argv[2];
if (file === undefined || process.send === undefined) throw new Error("baseline-process.ts is started by startBaselines()");
const body = readFileSync(file);
const [identity, gzipFloor, peer] = await Promise.all([identityServer(body), precompressedServer(gzipSync(body)), compressingServer(body)]);
process.send({ identity: identity.url, gzipFloor: gzipFloor.url, peer: peer.url });
// Gone with the bench: when it exits or lets go of this process.
process.on("disconnect", () => process.exit(0));
