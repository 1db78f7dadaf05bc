/**
 * A /metrics body as parts to write in order, some of them text kept with
 * its compressed form. The body is one gzip stream whose deflate data is
 * made of pieces compressed separately, each ending on a byte boundary with
 * a sync flush and none marked final (as pigz joins its blocks): so a gzip
 * scrape compresses only the text rendered for it and sends the kept pieces
 * of settled text as they are. One stream, not one gzip member per piece:
 * Go's reader (Prometheus's) reads concatenated members, but browsers and
 * many clients stop after the first one.
 */
import { constants, crc32, deflateRaw, deflateRawSync, inflateRawSync, type ZlibOptions } from "node:zlib";
import { promisify } from "node:util";
import pLimit from "p-limit";
import { crc32Combine } from "./crc32-combine.js";

const deflateRawAsync = promisify(deflateRaw);
/**
 * Pieces compressed at once: libuv's pool has four threads, and each
 * compression holds about 300 KiB of zlib state, so a first gzip scrape of
 * a large body queues here instead of allocating hundreds of them.
 */
const compressing = pLimit(2);

/** Deflate data of some text that ends on a byte boundary and is not final, with what the gzip trailer needs of the text. */
export interface DeflatePiece {
  readonly data: Buffer;
  /** CRC-32 of the text. */
  readonly crc: number;
  /** Bytes of the text. */
  readonly length: number;
}

/** Text that never changes, with its compressed pieces made at most once per change. */
export interface Precompressed {
  /** The text, in parts to write one after the other: bytes, or a piece that alone holds them, for the writer to inflate. */
  text(): Iterable<TextPart>;
  /** Bytes of `text`. */
  readonly bytes: number;
  /** The same text as deflate pieces, one after the other. */
  gzip(): Promise<readonly DeflatePiece[]>;
}

export type BodyPart = Buffer | Precompressed;

/** Text as bytes, or as a kept piece that inflates to them (piecesText). */
export type TextPart = Buffer | DeflatePiece;

export function partBytes(part: BodyPart): number {
  return Buffer.isBuffer(part) ? part.length : part.bytes;
}

/**
 * The body as it is, in parts to write in order. Settled text kept only
 * compressed comes as its pieces: inflated one at a time by the writer as
 * the socket takes them, never all at once.
 */
export function* identityBody(parts: readonly BodyPart[]): Generator<TextPart> {
  for (const part of parts) {
    if (Buffer.isBuffer(part)) yield part;
    else yield* part.text();
  }
}

/** Compresses text into a kept piece: deflatePiece, or a test's wrapper of it. */
export type Compress = (text: Buffer, options?: { readonly copy?: boolean }) => Promise<DeflatePiece>;

/**
 * The deflate piece of text kept for many scrapes, compressed well once,
 * on libuv's thread pool: a large text compressed synchronously would hold
 * every other request back.
 */
export const deflatePiece: Compress = (text, options = {}) =>
  compressing(async () => {
    // A copy made when its turn comes, not all at once: text a drop may rewrite while the pool reads it.
    const input = options.copy === true ? Buffer.from(text) : text;
    const data = await deflateRawAsync(input, pieceOptions(input, constants.Z_DEFAULT_COMPRESSION));
    return { data: exact(data), crc: crc32(input), length: input.length };
  });

/** Deflate data that ends on a byte boundary and is not final, in one output buffer as large as the text (one callback, not one per 16 KiB). */
function pieceOptions(text: Buffer, level: number): ZlibOptions {
  return { chunkSize: Math.max(16 * 1024, text.length), finishFlush: constants.Z_SYNC_FLUSH, level };
}

/**
 * The text of kept pieces one after the other, in one buffer of its own.
 * Every piece is compressed alone and sync-flushed, so pieces inflate alone
 * or joined, in one call: one zlib stream per call, not per piece. zlib's
 * output buffer is one byte larger than the text: one it fills exactly
 * makes it allocate another as large, in case more is coming.
 */
export function piecesText(pieces: readonly DeflatePiece[]): Buffer {
  const data = pieces.length === 1 && pieces[0] !== undefined ? pieces[0].data : Buffer.concat(pieces.map((piece) => piece.data));
  const length = pieces.reduce((n, piece) => n + piece.length, 0);
  return inflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH, chunkSize: Math.max(64, length + 1) });
}

/** The CRC-32 and length of the texts of `pieces` one after the other, as a gzip trailer or a joined piece needs them. */
export function textOfPieces(pieces: readonly DeflatePiece[]): { readonly crc: number; readonly length: number } {
  let crc = 0;
  let length = 0;
  for (const piece of pieces) {
    crc = crc32Combine(crc, piece.crc, piece.length);
    length += piece.length;
  }
  return { crc, length };
}

/**
 * `make`'s promise, made at the first call and kept for the next ones;
 * forgotten if it rejects, so that the next call (the next scrape) tries
 * again.
 */
export function keptPromise<T>(make: () => Promise<T>): () => Promise<T> {
  let kept: Promise<T> | undefined;
  return () => {
    kept ??= make().catch((error: unknown) => {
      kept = undefined;
      throw error;
    });
    return kept;
  };
}

/**
 * A kept piece in a buffer of its own size: zlib's answer is a view into
 * an output buffer as large as the text, and a piece of a few KiB kept for
 * good would hold all of it (twice the settled text's memory, in all).
 */
function exact(data: Buffer): Buffer {
  if (data.buffer.byteLength - data.length < 1024) return data;
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}

/**
 * Text rendered once and written by many scrapes until it is replaced (the
 * lines a MetricsStore keeps, a family's header): its deflate piece is made
 * by the first gzip scrape that needs it, and kept with it.
 */
export function keptText(text: Buffer): Precompressed {
  return {
    text: () => [text],
    bytes: text.length,
    gzip: keptPromise(async () => [await deflatePiece(text)]),
  };
}

/** ID1 ID2, deflate, no flags, no mtime, no extra flags, OS unknown (RFC 1952). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
/** An empty block (fixed Huffman codes, the end-of-block code alone) marked final: it ends the deflate data the pieces began. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/**
 * The deflate piece of text rendered for one scrape, at zlib's fastest
 * level, on the event loop: its cost is paid again on every scrape, and it
 * is small beside the kept text (the clock's lines, the counters, the
 * exporter's own metrics).
 */
function scrapePiece(text: Buffer): DeflatePiece {
  return { data: deflateRawSync(text, pieceOptions(text, constants.Z_BEST_SPEED)), crc: crc32(text), length: text.length };
}

/**
 * The body as one gzip stream: each run of plain parts becomes a piece
 * compressed now, kept text brings its own pieces.
 */
export async function gzipBody(parts: readonly BodyPart[]): Promise<Buffer[]> {
  const pending: Promise<readonly DeflatePiece[]>[] = [];
  let run: Buffer[] = [];
  const flush = (): void => {
    if (run.length === 0) return;
    const text = run.length === 1 ? run[0] : Buffer.concat(run);
    run = [];
    if (text === undefined || text.length === 0) return;
    pending.push(Promise.resolve([scrapePiece(text)]));
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
  const pieces = (await Promise.all(pending)).flat();
  const { crc, length } = textOfPieces(pieces);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  return [GZIP_HEADER, ...pieces.map((piece) => piece.data), FINAL_BLOCK, trailer];
}
