/**
 * The exposition text of settled calculations, kept in one stream per
 * metric family. A scrape hands the streams to the socket as they are: no
 * rendering of text that can never change. This is what keeps a warm
 * scrape near the cost of serving a static file.
 *
 * Each family's stream is a list of fixed-size chunks. A calculation's
 * lines are appended to the end; when it is dropped, its bytes are
 * overwritten with a comment line of the same length (the text format
 * ignores `#` lines that are not HELP or TYPE), and the streams are
 * compacted once dead bytes outnumber live ones.
 *
 * A chunk that can no longer grow is kept as its deflate piece alone, made
 * in the background when it fills: the settled text is held compressed, a
 * tenth of its size, and a pod's memory follows the pieces, not the text.
 * A gzip scrape sends the pieces as they are; an identity scrape inflates
 * them one at a time as the socket takes them. A drop inflates its chunk
 * again until the chunk is compressed anew, so that it costs one chunk's
 * compression, not the whole stream's. 64 KiB of text per piece keeps the
 * joined pieces within a few percent of one gzip of the whole text
 * (measured in test/unit/exposition/gzip-body.test.ts).
 */
import { deflatePiece, keptPromise, piecesText, textOfPieces, type Compress, type DeflatePiece, type Precompressed } from "./gzip-body.js";

const CHUNK_BYTES = 64 * 1024;
/** Positions are packed with lengths into one float64: position * 2^16 + length. */
const LENGTH_SPAN = 0x10000;

/** One calculation's place in the arena: a row of the table of where its text sits. */
export type SettledHandle = number;

/** One fixed-size piece of a family's stream. */
interface Chunk {
  /** The text, while the chunk is being filled or its piece is not made since it last changed; else its piece holds it. */
  bytes: Buffer | undefined;
  /** Bytes of text. */
  filled: number;
  /** Bumped on every change, so that a compression that raced one is not kept. */
  version: number;
  /** The text as a deflate piece, while the chunk is as it was compressed. */
  piece: DeflatePiece | undefined;
  /** A compression under way, with the version it read. */
  making: { readonly version: number; readonly piece: Promise<DeflatePiece> } | undefined;
}

/** A chunk as a snapshot took it: a view of its text then, or the piece that held it. */
type Held =
  { readonly chunk: Chunk; readonly version: number; readonly text: Buffer } | { readonly text: undefined; readonly piece: DeflatePiece };

class FamilyStream {
  readonly chunks: Chunk[] = [];
  live = 0;
  dead = 0;
  /** The snapshot handed out, until any chunk changes or gives up its text for its piece. */
  #snapshot: Precompressed | undefined;
  /** Chunks that can no longer grow, changed in this turn of the event loop: compressed anew once, after the turn's drops. */
  readonly #changedSealed = new Set<Chunk>();

  constructor(private readonly compress: Compress) {}

  append(bytes: Buffer): number {
    if (bytes.length >= LENGTH_SPAN || bytes.length > CHUNK_BYTES) throw new RangeError(`${bytes.length} bytes of one family's text`);
    let last = this.chunks.at(-1);
    let text = last?.bytes;
    if (last === undefined || text === undefined || last.filled + bytes.length > CHUNK_BYTES) {
      if (last !== undefined) this.#seal(last);
      text = Buffer.allocUnsafe(CHUNK_BYTES);
      last = { bytes: text, filled: 0, version: 0, piece: undefined, making: undefined };
      this.chunks.push(last);
    }
    const offset = last.filled;
    bytes.copy(text, offset);
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
    const bytes = (chunk.bytes ??= this.#textOf(chunk));
    this.#changed(chunk);
    bytes[offset] = 0x23; // '#'
    bytes.fill(0x20, offset + 1, offset + length - 1); // ' '
    bytes[offset + length - 1] = 0x0a; // '\n'
    this.live -= length;
    this.dead += length;
    if (chunk !== this.chunks.at(-1)) this.#sealAfterThisTurn(chunk);
  }

  /** The text of chunk `index`, inflated if its piece alone holds it, and not kept. */
  textAt(index: number): Buffer {
    const chunk = this.chunks[index];
    if (chunk === undefined) throw new RangeError(`no chunk ${index}`);
    return this.#textOf(chunk);
  }

  #textOf(chunk: Chunk): Buffer {
    if (chunk.bytes !== undefined) return view(chunk);
    if (chunk.piece === undefined) throw new Error("a chunk with neither text nor piece");
    return piecesText([chunk.piece]);
  }

  /** Compresses a chunk that can no longer grow and lets its text go once the piece is in. */
  #seal(chunk: Chunk): void {
    if (chunk.bytes === undefined) return;
    this.#pieceOf(chunk, view(chunk), chunk.version).then(
      () => {
        // A change meanwhile cleared the piece: the text stays, and that change seals it again.
        if (chunk.piece === undefined || chunk.bytes === undefined) return;
        chunk.bytes = undefined;
        this.#snapshot = undefined;
      },
      () => undefined,
    );
  }

  #sealAfterThisTurn(chunk: Chunk): void {
    if (this.#changedSealed.size === 0) {
      setImmediate(() => {
        for (const changed of this.#changedSealed) this.#seal(changed);
        this.#changedSealed.clear();
      });
    }
    this.#changedSealed.add(chunk);
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
   * The text as it is now, with its deflate pieces. Chunks are taken with
   * their lengths: text appended later is not part of it, and a drop
   * meanwhile only turns lines into comment lines of the same length. The
   * same snapshot is handed out until the stream changes, and once every
   * chunk's piece is in, its gzip form is the pieces joined into one, so a
   * warm scrape sends one buffer per family, not one per chunk.
   */
  snapshot(): Precompressed {
    if (this.#snapshot !== undefined) return this.#snapshot;
    const chunks = [...this.chunks];
    // A piece, not its chunk, where the piece alone holds the text: a drop later inflates the chunk into other bytes.
    // Mutable: once the pieces are joined, the snapshot holds the joined views rather than the pieces.
    const held = chunks.map((chunk): Held => {
      if (chunk.bytes !== undefined) return { chunk, version: chunk.version, text: view(chunk) };
      if (chunk.piece === undefined) throw new Error("a chunk with neither text nor piece");
      return { text: undefined, piece: chunk.piece };
    });
    const snapshot: Precompressed = {
      *text() {
        for (const h of held) yield h.text ?? h.piece;
      },
      bytes: held.reduce((n, h) => n + (h.text === undefined ? h.piece.length : h.text.length), 0),
      gzip: keptPromise(async () => {
        const pieces = await Promise.all(
          held.map((h) => (h.text === undefined ? Promise.resolve(h.piece) : this.#pieceOf(h.chunk, h.text, h.version))),
        );
        const joined = this.#join(chunks, pieces, snapshot);
        // The chunks' pieces are views into the joined buffer now: held as the separate buffers they were
        // made in, the kept pieces would be in memory twice for as long as this snapshot is handed out.
        chunks.forEach((chunk, i) => {
          if (held[i]?.text === undefined && chunk.piece !== undefined && this.#snapshot === snapshot)
            held[i] = { text: undefined, piece: chunk.piece };
        });
        return [joined];
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

const view = (chunk: Chunk): Buffer => (chunk.bytes ?? Buffer.alloc(0)).subarray(0, chunk.filled);

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
    if (this.#streams.some((s) => s.dead > s.live && s.dead > CHUNK_BYTES)) this.#compact();
  }

  /** The bytes of family `family` with their gzip members. */
  precompressed(family: number): Precompressed | undefined {
    return this.#streams[family]?.snapshot();
  }

  /** Rewrites the streams without dead bytes, in the order the text was in, and moves every handle's places. */
  #compact(): void {
    for (let family = 0; family < this.families; family++) {
      const old = this.#streams[family];
      if (old === undefined || old.dead === 0) continue;
      const places: number[] = [];
      for (let handle = 0; handle < this.#rows; handle++) {
        const at = handle * this.families + family;
        if (this.#used[handle] === 1 && (this.#places[at] ?? 0) !== 0) places.push(at);
      }
      // In the order of their positions, so that each old chunk is inflated once.
      places.sort((a, b) => (this.#places[a] ?? 0) - (this.#places[b] ?? 0));
      const fresh = new FamilyStream(this.compress);
      let reading: { index: number; text: Buffer } = { index: -1, text: Buffer.alloc(0) };
      for (const at of places) {
        const packed = this.#places[at] ?? 0;
        const position = Math.floor(packed / LENGTH_SPAN);
        const length = packed % LENGTH_SPAN;
        const index = Math.floor(position / CHUNK_BYTES);
        if (reading.index !== index) reading = { index, text: old.textAt(index) };
        const offset = position % CHUNK_BYTES;
        this.#places[at] = fresh.append(reading.text.subarray(offset, offset + length)) * LENGTH_SPAN + length;
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
