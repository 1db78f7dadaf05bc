/**
 * A /metrics body as parts to write in order, some of them text kept with
 * its gzip form. RFC 1952 lets gzip members follow one another in one
 * stream, and Go's reader (Prometheus's) reads them all: so a gzip scrape
 * compresses only the text rendered for it and sends the kept members of
 * settled text as they are.
 */
import { gzip } from "node:zlib";
import { promisify } from "node:util";
import pLimit from "p-limit";

const gzipAsync = promisify(gzip);
/**
 * Members compressed at once: libuv's pool has four threads, and each
 * compression holds about 300 KiB of zlib state, so a first gzip scrape of
 * a large body queues here instead of allocating hundreds of them.
 */
const compressing = pLimit(2);

/** Text that never changes, with its gzip members made at most once per change. */
export interface Precompressed {
  /** The text, as views to write one after the other. */
  readonly text: readonly Buffer[];
  /** Bytes of `text`. */
  readonly bytes: number;
  /** The same text as gzip members, one after the other. */
  gzip(): Promise<readonly Buffer[]>;
}

export type BodyPart = Buffer | Precompressed;

export function partBytes(part: BodyPart): number {
  return Buffer.isBuffer(part) ? part.length : part.bytes;
}

/** The body as it is. */
export function identityBody(parts: readonly BodyPart[]): Buffer[] {
  const out: Buffer[] = [];
  for (const part of parts) {
    if (Buffer.isBuffer(part)) out.push(part);
    else out.push(...part.text);
  }
  return out;
}

/**
 * One gzip member of `text`, compressed on libuv's thread pool: a large
 * body compressed synchronously would hold every other request back.
 */
export function gzipMember(text: Buffer, options: { copy?: boolean } = {}): Promise<Buffer> {
  return compressing(() => {
    // A copy made when its turn comes, not all at once: text a drop may rewrite while the pool reads it.
    const input = options.copy === true ? Buffer.from(text) : text;
    // One output buffer as large as a member's text: one callback per member rather than one per 16 KiB.
    return gzipAsync(input, { chunkSize: Math.max(16 * 1024, input.length) });
  });
}

/**
 * The body as a gzip stream of members: each run of plain parts becomes one
 * member compressed now, kept text brings its own members.
 */
export async function gzipBody(parts: readonly BodyPart[]): Promise<Buffer[]> {
  const pending: Promise<readonly Buffer[]>[] = [];
  let run: Buffer[] = [];
  const flush = (): void => {
    if (run.length === 0) return;
    const text = run.length === 1 ? run[0] : Buffer.concat(run);
    run = [];
    if (text !== undefined && text.length > 0) pending.push(gzipMember(text).then((member) => [member]));
  };
  for (const part of parts) {
    if (Buffer.isBuffer(part)) {
      run.push(part);
    } else if (part.bytes > 0) {
      flush();
      pending.push(part.gzip());
    }
  }
  flush();
  // An empty gzip stream is not a valid one: an empty body is still one member.
  if (pending.length === 0) pending.push(gzipMember(Buffer.alloc(0)).then((member) => [member]));
  return (await Promise.all(pending)).flat();
}
