/**
 * The exposition text of settled calculations, kept as bytes in one stream
 * per metric family. A scrape hands the streams to the socket as they are:
 * no rendering, encoding or copying of text that can never change. This is
 * what keeps a warm scrape near the cost of serving a static file.
 *
 * Each family's stream is a list of fixed-size chunks. A calculation's
 * lines are appended to the end; when it is dropped, its bytes are
 * overwritten with a comment line of the same length (the text format
 * ignores `#` lines that are not HELP or TYPE), and the streams are
 * compacted once dead bytes outnumber live ones.
 *
 * Each chunk also keeps its text as one deflate piece, made in the
 * background when the chunk fills, or by the first gzip scrape after it
 * changed: a drop costs the next gzip scrape one chunk's compression, not
 * the whole stream's. 64 KiB of text
 * per piece keeps the joined pieces within a few percent of one gzip of
 * the whole text (measured in test/unit/exposition/gzip-body.test.ts).
 */
import { deflatePiece, keptPromise, textOfPieces, type Compress, type DeflatePiece, type Precompressed } from "./gzip-body.js";

const CHUNK_BYTES = 64 * 1024;
/** Positions are packed with lengths into one float64: position * 2^16 + length. */
const LENGTH_SPAN = 0x10000;

/** One calculation's place in the arena: a row of the table of where its text sits. */
export type SettledHandle = number;

/** One fixed-size piece of a family's stream. */
interface Chunk {
  readonly bytes: Buffer;
  /** Bytes written. */
  filled: number;
  /** Bumped on every change, so that a compression that raced one is not kept. */
  version: number;
  /** The text as a deflate piece, while the chunk is as it was compressed. */
  piece: DeflatePiece | undefined;
  /** A compression under way, with the version it read. */
  making: { readonly version: number; readonly piece: Promise<DeflatePiece> } | undefined;
}

class FamilyStream {
  readonly chunks: Chunk[] = [];
  live = 0;
  dead = 0;
  /** The snapshot handed out, until any chunk changes. */
  #snapshot: Precompressed | undefined;

  constructor(private readonly compress: Compress) {}

  append(bytes: Buffer): number {
    if (bytes.length >= LENGTH_SPAN || bytes.length > CHUNK_BYTES) throw new RangeError(`${bytes.length} bytes of one family's text`);
    let last = this.chunks.at(-1);
    if (last === undefined || last.filled + bytes.length > CHUNK_BYTES) {
      // The chunk is full: its piece is made now, in the background, not by the first gzip scrape.
      if (last !== undefined) this.#pieceOf(last, view(last), last.version).catch(() => undefined);
      last = { bytes: Buffer.allocUnsafe(CHUNK_BYTES), filled: 0, version: 0, piece: undefined, making: undefined };
      this.chunks.push(last);
    }
    const offset = last.filled;
    bytes.copy(last.bytes, offset);
    last.filled = offset + bytes.length;
    this.#changed(last);
    this.live += bytes.length;
    return (this.chunks.length - 1) * CHUNK_BYTES + offset;
  }

  /** Replaces bytes with "#   …   \n" of the same length; every sample line is longer than 2 bytes. */
  tombstone(position: number, length: number): void {
    const chunk = this.chunks[Math.floor(position / CHUNK_BYTES)];
    const offset = position % CHUNK_BYTES;
    if (chunk === undefined || length < 2) return;
    this.#changed(chunk);
    chunk.bytes[offset] = 0x23; // '#'
    chunk.bytes.fill(0x20, offset + 1, offset + length - 1); // ' '
    chunk.bytes[offset + length - 1] = 0x0a; // '\n'
    this.live -= length;
    this.dead += length;
  }

  read(position: number, length: number): Buffer {
    const chunk = this.chunks[Math.floor(position / CHUNK_BYTES)];
    const offset = position % CHUNK_BYTES;
    if (chunk === undefined) throw new RangeError(`no text at ${position}`);
    return chunk.bytes.subarray(offset, offset + length);
  }

  views(): Buffer[] {
    return this.chunks.map(view);
  }

  get bytes(): number {
    return this.live + this.dead;
  }

  /**
   * The deflate piece of `chunk` as it was at `version` (`text`, its text
   * then): the kept one while the chunk is still so, the one under way if
   * one is, else one made now and kept if the chunk has not changed
   * meanwhile.
   */
  #pieceOf(chunk: Chunk, text: Buffer, version: number): Promise<DeflatePiece> {
    const current = chunk.version === version;
    if (current && chunk.piece !== undefined) return Promise.resolve(chunk.piece);
    if (chunk.making?.version === version) return chunk.making.piece;
    const done = (): void => {
      if (chunk.making?.piece === piece) chunk.making = undefined;
    };
    // Copied when compressed: a drop rewriting the chunk while the thread pool reads it would tear a line.
    const piece = this.compress(text, { copy: true }).then(
      (made) => {
        done();
        if (chunk.version === version) chunk.piece = made;
        return made;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
    if (current) chunk.making = { version, piece };
    return piece;
  }

  #changed(chunk: Chunk): void {
    chunk.piece = undefined;
    chunk.version++;
    this.#snapshot = undefined;
  }

  /**
   * The text as it is now, with its deflate pieces. Chunks are captured
   * with their lengths: text appended later is not part of it, and a drop
   * meanwhile only turns lines into comment lines of the same length. The
   * same snapshot is handed out until the stream changes, and once every
   * chunk's piece is in, its gzip form is the pieces joined into one, so a
   * warm scrape sends one buffer per family, not one per chunk.
   */
  snapshot(): Precompressed {
    if (this.#snapshot !== undefined) return this.#snapshot;
    const chunks = [...this.chunks];
    const text = chunks.map(view);
    // Versions, not pieces: a snapshot that held its chunks' pieces would keep them after they are joined.
    const versions = chunks.map((chunk) => chunk.version);
    const snapshot: Precompressed = {
      text,
      bytes: text.reduce((n, v) => n + v.length, 0),
      gzip: keptPromise(async () => {
        const pieces = await Promise.all(chunks.map((chunk, i) => this.#pieceOf(chunk, text[i] ?? Buffer.alloc(0), versions[i] ?? 0)));
        return [this.#join(chunks, pieces, snapshot)];
      }),
    };
    this.#snapshot = snapshot;
    return snapshot;
  }

  /**
   * The pieces as one: their deflate data one after the other is itself
   * sync-flushed and not final. While the stream is as they were made
   * from, each chunk's kept piece becomes a view into the joined buffer,
   * so the pieces are held once.
   */
  #join(chunks: readonly Chunk[], pieces: readonly DeflatePiece[], snapshot: Precompressed): DeflatePiece {
    if (pieces.length === 1 && pieces[0] !== undefined) return pieces[0];
    const data = Buffer.concat(pieces.map((piece) => piece.data));
    if (this.#snapshot === snapshot) {
      let offset = 0;
      pieces.forEach((piece, i) => {
        const chunk = chunks[i];
        if (chunk !== undefined) chunk.piece = { ...piece, data: data.subarray(offset, offset + piece.data.length) };
        offset += piece.data.length;
      });
    }
    return { data, ...textOfPieces(pieces) };
  }
}

const view = (chunk: Chunk): Buffer => chunk.bytes.subarray(0, chunk.filled);

export class SettledArena {
  readonly #streams: FamilyStream[];
  /**
   * Where each calculation's text sits: a row of `families` packed
   * positions per handle, 0 where it has none. One table rather than an
   * array per calculation: at 100,000 that is one object, not 100,000.
   */
  #places: Float64Array;
  /** Whether each row is in use, and the rows free for reuse. */
  #used: Uint8Array;
  readonly #free: number[] = [];
  #rows = 0;
  #size = 0;

  constructor(
    readonly families: number,
    private readonly compress: Compress = deflatePiece,
  ) {
    this.#streams = Array.from({ length: families }, () => new FamilyStream(compress));
    this.#places = new Float64Array(families * 64);
    this.#used = new Uint8Array(64);
  }

  /** Appends one calculation's text, one string per family ("" for none). */
  add(lines: readonly string[]): SettledHandle {
    const handle = this.#free.pop() ?? this.#newRow();
    const row = handle * this.families;
    this.#used[handle] = 1;
    this.#size++;
    lines.forEach((text, family) => {
      const stream = this.#streams[family];
      if (text === "" || stream === undefined) return;
      const bytes = Buffer.from(text, "utf8");
      this.#places[row + family] = stream.append(bytes) * LENGTH_SPAN + bytes.length;
    });
    return handle;
  }

  /** Takes a calculation's text out of every stream. */
  remove(handle: SettledHandle): void {
    if (this.#used[handle] !== 1) return;
    const row = handle * this.families;
    for (let family = 0; family < this.families; family++) {
      const packed = this.#places[row + family] ?? 0;
      if (packed !== 0) this.#streams[family]?.tombstone(Math.floor(packed / LENGTH_SPAN), packed % LENGTH_SPAN);
    }
    this.#places.fill(0, row, row + this.families);
    this.#used[handle] = 0;
    this.#free.push(handle);
    this.#size--;
    if (this.#streams.some((s) => s.dead > s.live && s.dead > CHUNK_BYTES)) this.compact();
  }

  /** The bytes of family `family`, as views to write one after the other. */
  views(family: number): Buffer[] {
    return this.#streams[family]?.views() ?? [];
  }

  /** The bytes of family `family` with their gzip members. */
  precompressed(family: number): Precompressed | undefined {
    return this.#streams[family]?.snapshot();
  }

  bytes(family: number): number {
    return this.#streams[family]?.bytes ?? 0;
  }

  get size(): number {
    return this.#size;
  }

  /** Rewrites the streams without dead bytes, and moves every handle's places. */
  compact(): void {
    for (let family = 0; family < this.families; family++) {
      const old = this.#streams[family];
      if (old === undefined || old.dead === 0) continue;
      const fresh = new FamilyStream(this.compress);
      for (let handle = 0; handle < this.#rows; handle++) {
        const at = handle * this.families + family;
        const packed = this.#places[at] ?? 0;
        if (this.#used[handle] !== 1 || packed === 0) continue;
        const length = packed % LENGTH_SPAN;
        this.#places[at] = fresh.append(old.read(Math.floor(packed / LENGTH_SPAN), length)) * LENGTH_SPAN + length;
      }
      this.#streams[family] = fresh;
    }
  }

  /** A row never used, the table doubled when it is full. */
  #newRow(): number {
    if (this.#rows === this.#used.length) {
      const places = new Float64Array(this.#places.length * 2);
      places.set(this.#places);
      this.#places = places;
      const used = new Uint8Array(this.#used.length * 2);
      used.set(this.#used);
      this.#used = used;
    }
    return this.#rows++;
  }
}
