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
import { deflatePiece, keptPromise, textOfPieces, type DeflatePiece, type Precompressed } from "./gzip-body.js";

const CHUNK_BYTES = 64 * 1024;
/** Positions are packed with lengths into one float64: position * 2^16 + length. */
const LENGTH_SPAN = 0x10000;

/** Where one calculation's text sits, per family; 0 where it has none. */
export type SettledHandle = Float64Array;

class FamilyStream {
  chunks: Buffer[] = [];
  /** Bytes written in each chunk. */
  filled: number[] = [];
  /** Each chunk's text as a deflate piece, while the chunk is as it was compressed. */
  members: (DeflatePiece | undefined)[] = [];
  /** Bumped on every change to a chunk, so a compression that raced one is not kept. */
  versions: number[] = [];
  live = 0;
  dead = 0;
  /** Bumped on every change to any chunk: the snapshot handed out stands until then. */
  #version = 0;
  #snapshot: Precompressed | undefined;
  #snapshotVersion = -1;
  /** Compressions under way, per chunk, with the version of the chunk they read. */
  readonly #making = new Map<number, { readonly version: number; readonly piece: Promise<DeflatePiece> }>();

  append(bytes: Buffer): number {
    if (bytes.length >= LENGTH_SPAN || bytes.length > CHUNK_BYTES) throw new RangeError(`${bytes.length} bytes of one family's text`);
    let last = this.chunks.length - 1;
    if (last < 0 || (this.filled[last] ?? 0) + bytes.length > CHUNK_BYTES) {
      // The chunk is full: its piece is made now, in the background, not by the first gzip scrape.
      if (last >= 0) this.#pieceOf(last, this.#view(last), this.versions[last] ?? 0).catch(() => undefined);
      this.chunks.push(Buffer.allocUnsafe(CHUNK_BYTES));
      this.filled.push(0);
      this.members.push(undefined);
      this.versions.push(0);
      last++;
    }
    const chunk = this.chunks[last];
    const offset = this.filled[last] ?? 0;
    if (chunk === undefined) throw new Error("unreachable: a chunk was just added");
    bytes.copy(chunk, offset);
    this.filled[last] = offset + bytes.length;
    this.#changed(last);
    this.live += bytes.length;
    return last * CHUNK_BYTES + offset;
  }

  /** Replaces bytes with "#   …   \n" of the same length; every sample line is longer than 2 bytes. */
  tombstone(position: number, length: number): void {
    const index = Math.floor(position / CHUNK_BYTES);
    const chunk = this.chunks[index];
    const offset = position % CHUNK_BYTES;
    if (chunk === undefined || length < 2) return;
    this.#changed(index);
    chunk[offset] = 0x23; // '#'
    chunk.fill(0x20, offset + 1, offset + length - 1); // ' '
    chunk[offset + length - 1] = 0x0a; // '\n'
    this.live -= length;
    this.dead += length;
  }

  read(position: number, length: number): Buffer {
    const chunk = this.chunks[Math.floor(position / CHUNK_BYTES)];
    const offset = position % CHUNK_BYTES;
    if (chunk === undefined) throw new RangeError(`no text at ${position}`);
    return chunk.subarray(offset, offset + length);
  }

  views(): Buffer[] {
    return this.chunks.map((_, i) => this.#view(i));
  }

  #view(index: number): Buffer {
    return this.chunks[index]?.subarray(0, this.filled[index] ?? 0) ?? Buffer.alloc(0);
  }

  /**
   * The deflate piece of chunk `index` as it was at `version` (`view`, its
   * text then): the kept one while the chunk is still so, the one under
   * way if one is, else one made now and kept if the chunk has not changed
   * meanwhile.
   */
  #pieceOf(index: number, view: Buffer, version: number): Promise<DeflatePiece> {
    const current = this.versions[index] === version;
    const kept = this.members[index];
    if (current && kept !== undefined) return Promise.resolve(kept);
    const making = this.#making.get(index);
    if (making !== undefined && making.version === version) return making.piece;
    const done = (): void => {
      if (this.#making.get(index)?.piece === piece) this.#making.delete(index);
    };
    // Copied when compressed: a drop rewriting the chunk while the thread pool reads it would tear a line.
    const piece = deflatePiece(view, { copy: true }).then(
      (made) => {
        done();
        if (this.versions[index] === version) this.members[index] = made;
        return made;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
    if (current) this.#making.set(index, { version, piece });
    return piece;
  }

  /** Resolves once the compressions under way are done (the tests wait on it). */
  async compressed(): Promise<void> {
    await Promise.allSettled([...this.#making.values()].map((making) => making.piece));
  }

  get bytes(): number {
    return this.live + this.dead;
  }

  #changed(index: number): void {
    this.members[index] = undefined;
    this.versions[index] = (this.versions[index] ?? 0) + 1;
    this.#version++;
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
    if (this.#snapshot !== undefined && this.#snapshotVersion === this.#version) return this.#snapshot;
    const text = this.views();
    // Versions, not pieces: a snapshot that held its chunks' pieces would keep them after they are joined.
    const versions = [...this.versions];
    const streamVersion = this.#version;
    const snapshot: Precompressed = {
      text,
      bytes: text.reduce((n, view) => n + view.length, 0),
      gzip: keptPromise(async () => {
        const pieces = await Promise.all(text.map((view, i) => this.#pieceOf(i, view, versions[i] ?? 0)));
        return [this.#join(pieces, streamVersion)];
      }),
    };
    this.#snapshot = snapshot;
    this.#snapshotVersion = streamVersion;
    return snapshot;
  }

  /**
   * The pieces as one: their deflate data one after the other is itself
   * sync-flushed and not final. While the stream is as they were made
   * from, each chunk's kept piece becomes a view into the joined buffer,
   * so the pieces are held once.
   */
  #join(pieces: readonly DeflatePiece[], streamVersion: number): DeflatePiece {
    if (pieces.length === 1 && pieces[0] !== undefined) return pieces[0];
    const data = Buffer.concat(pieces.map((piece) => piece.data));
    if (this.#version === streamVersion) {
      let offset = 0;
      pieces.forEach((piece, i) => {
        this.members[i] = { ...piece, data: data.subarray(offset, offset + piece.data.length) };
        offset += piece.data.length;
      });
    }
    return { data, ...textOfPieces(pieces) };
  }
}

export class SettledArena {
  readonly #streams: FamilyStream[];
  readonly #handles = new Set<SettledHandle>();

  constructor(readonly families: number) {
    this.#streams = Array.from({ length: families }, () => new FamilyStream());
  }

  /** Appends one calculation's text, one string per family ("" for none). */
  add(lines: readonly string[]): SettledHandle {
    const handle = new Float64Array(this.families);
    lines.forEach((text, family) => {
      const stream = this.#streams[family];
      if (text === "" || stream === undefined) return;
      const bytes = Buffer.from(text, "utf8");
      handle[family] = stream.append(bytes) * LENGTH_SPAN + bytes.length;
    });
    this.#handles.add(handle);
    return handle;
  }

  /** Takes a calculation's text out of every stream. */
  remove(handle: SettledHandle): void {
    if (!this.#handles.delete(handle)) return;
    handle.forEach((packed, family) => {
      if (packed !== 0) this.#streams[family]?.tombstone(Math.floor(packed / LENGTH_SPAN), packed % LENGTH_SPAN);
    });
    handle.fill(0);
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

  /** Resolves once the chunks' compressions under way are done. */
  async compressed(): Promise<void> {
    await Promise.all(this.#streams.map((stream) => stream.compressed()));
  }

  bytes(family: number): number {
    return this.#streams[family]?.bytes ?? 0;
  }

  get size(): number {
    return this.#handles.size;
  }

  /** Rewrites the streams without dead bytes, and moves every handle. */
  compact(): void {
    for (let family = 0; family < this.families; family++) {
      const old = this.#streams[family];
      if (old === undefined || old.dead === 0) continue;
      const fresh = new FamilyStream();
      for (const handle of this.#handles) {
        const packed = handle[family] ?? 0;
        if (packed === 0) continue;
        const length = packed % LENGTH_SPAN;
        handle[family] = fresh.append(old.read(Math.floor(packed / LENGTH_SPAN), length)) * LENGTH_SPAN + length;
      }
      this.#streams[family] = fresh;
    }
  }
}
