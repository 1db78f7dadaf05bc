/**
 * Deflate for lines that are a kept head and a fresh value, where a head
 * mostly repeats the head before it: the durations of unfinished
 * calculations, the one text a warm scrape renders in bulk. Each line is
 * coded as a match of the part its head shares with the previous head's
 * start, the differing middle (the calculation's ID) as literals, a match
 * of the part it shares with the previous head's end, then the value and
 * the newline as literals: the structure is known from the heads, once,
 * so nothing is searched on a scrape.
 *
 * One block of fixed Huffman codes (RFC 1951, 3.2.6) ended by a sync flush,
 * as zlib's pieces are (gzip-body.ts). On the durations of 500 unfinished
 * calculations: 30 KB where zlib's fastest level makes 16, in 0.4 of its
 * time (143-183 against 366-462 us, medians of 500); the body grows ~2%.
 */
import { crc32 } from "node:zlib";
import type { DeflatePiece } from "./gzip-body.js";

/** How each head is coded against the head before it, made once per set of heads. */
export interface LinePlan {
  readonly heads: readonly Buffer[];
  /** Bytes of all heads: what the lines hold besides their values and newlines. */
  readonly headBytes: number;
  /** Bytes of head i that repeat the start of head i-1 (0, or at least 3). */
  readonly prefix: Uint16Array;
  /** Bytes of head i that repeat the end of head i-1 (0, or at least 3), after the prefix. */
  readonly suffix: Uint16Array;
  /** The literal codes of each head's middle, coded once: head i's are words[wordStart[i]] up to words[wordStart[i + 1]]. */
  readonly words: Uint16Array;
  readonly wordBits: Uint8Array;
  readonly wordStart: Uint32Array;
}

const MIN_MATCH = 3;
const MAX_MATCH = 258;
const MAX_DISTANCE = 32_768;
/** Longer shared parts are coded up to here (a head is a few hundred bytes; label values are bounded). */
const MAX_SHARED = 65_535;

export function planLines(heads: readonly Buffer[]): LinePlan {
  const prefix = new Uint16Array(heads.length);
  const suffix = new Uint16Array(heads.length);
  const headBytes = heads.reduce((n, head) => n + head.length, 0);
  for (let i = 1; i < heads.length; i++) {
    const head = heads[i] as Buffer;
    const before = heads[i - 1] as Buffer;
    let p = 0;
    const pMax = Math.min(head.length, before.length, MAX_SHARED);
    while (p < pMax && head[p] === before[p]) p++;
    if (p < MIN_MATCH) p = 0;
    let s = 0;
    const sMax = Math.min(head.length - p, before.length, MAX_SHARED);
    while (s < sMax && head[head.length - 1 - s] === before[before.length - 1 - s]) s++;
    if (s < MIN_MATCH) s = 0;
    prefix[i] = p;
    suffix[i] = s;
  }
  // Each middle's literal codes, packed into words of up to 16 bits: a scrape writes a few words, not a code per byte.
  const words: number[] = [];
  const wordBits: number[] = [];
  const wordStart = new Uint32Array(heads.length + 1);
  heads.forEach((head, i) => {
    wordStart[i] = words.length;
    let bits = 0;
    let count = 0;
    for (let at = prefix[i] as number; at < head.length - (suffix[i] as number); at++) {
      const byte = head[at] as number;
      bits |= (LITERAL_CODE[byte] as number) << count;
      count += LITERAL_BITS[byte] as number;
      if (count >= 16) {
        words.push(bits & 0xffff);
        wordBits.push(16);
        bits >>>= 16;
        count -= 16;
      }
    }
    if (count > 0) {
      words.push(bits);
      wordBits.push(count);
    }
  });
  wordStart[heads.length] = words.length;
  return { heads, headBytes, prefix, suffix, words: Uint16Array.from(words), wordBits: Uint8Array.from(wordBits), wordStart };
}

/** Reverses the low `n` bits of `code`: Huffman codes are sent from their top bit, the stream is filled from the bottom. */
function reversed(code: number, n: number): number {
  let out = 0;
  for (let i = 0; i < n; i++) out |= ((code >>> i) & 1) << (n - 1 - i);
  return out;
}

/** The fixed literal/length code of each symbol 0-287, bit-reversed, and its length. */
const LITERAL_CODE = new Uint16Array(288);
const LITERAL_BITS = new Uint8Array(288);
for (let s = 0; s < 288; s++) {
  const [code, bits] = s < 144 ? [0x30 + s, 8] : s < 256 ? [0x190 + s - 144, 9] : s < 280 ? [s - 256, 7] : [0xc0 + s - 280, 8];
  LITERAL_CODE[s] = reversed(code, bits);
  LITERAL_BITS[s] = bits;
}

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385,
  24577,
];
const DISTANCE_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/** Per match length 3-258, its length code's index (symbol 257 + index); per distance 1-32768, its distance code. */
const LENGTH_INDEX = new Uint8Array(MAX_MATCH + 1);
const DISTANCE_CODE = new Uint8Array(MAX_DISTANCE + 1);
for (let i = 0; i < LENGTH_BASE.length; i++) {
  const end = i + 1 < LENGTH_BASE.length ? (LENGTH_BASE[i + 1] as number) : MAX_MATCH + 1;
  for (let l = LENGTH_BASE[i] as number; l < end; l++) LENGTH_INDEX[l] = i;
}
LENGTH_INDEX[MAX_MATCH] = LENGTH_BASE.length - 1;
for (let c = 0; c < DISTANCE_BASE.length; c++) {
  const end = c + 1 < DISTANCE_BASE.length ? (DISTANCE_BASE[c + 1] as number) : MAX_DISTANCE + 1;
  for (let d = DISTANCE_BASE[c] as number; d < end; d++) DISTANCE_CODE[d] = c;
}
const DISTANCE_CODE_BITS = DISTANCE_BASE.map((_, c) => reversed(c, 5));

/** Bits into bytes, the first bit into the lowest bit of the first byte. */
class BitWriter {
  readonly out: Buffer;
  at = 0;
  #bits = 0;
  #count = 0;

  constructor(capacity: number) {
    this.out = Buffer.allocUnsafe(capacity);
  }

  /** `n` ≤ 16 bits of `value`; fewer than 16 are ever held, so the sum fits in 31. */
  put(value: number, n: number): void {
    this.#bits |= value << this.#count;
    this.#count += n;
    if (this.#count >= 16) {
      this.out[this.at++] = this.#bits & 0xff;
      this.out[this.at++] = (this.#bits >>> 8) & 0xff;
      this.#bits >>>= 16;
      this.#count -= 16;
    }
  }

  literal(byte: number): void {
    this.put(LITERAL_CODE[byte] as number, LITERAL_BITS[byte] as number);
  }

  /** Copies `length` bytes from `distance` back, in matches of at most 258 (none shorter than 3). */
  match(length: number, distance: number): void {
    const dc = DISTANCE_CODE[distance] as number;
    const dBits = DISTANCE_CODE_BITS[dc] as number;
    const dExtra = DISTANCE_EXTRA[dc] as number;
    const dValue = distance - (DISTANCE_BASE[dc] as number);
    let left = length;
    while (left > 0) {
      const take = left <= MAX_MATCH ? left : left - MAX_MATCH < MIN_MATCH ? left - MIN_MATCH : MAX_MATCH;
      const li = LENGTH_INDEX[take] as number;
      this.put(LITERAL_CODE[257 + li] as number, LITERAL_BITS[257 + li] as number);
      const lExtra = LENGTH_EXTRA[li] as number;
      if (lExtra > 0) this.put(take - (LENGTH_BASE[li] as number), lExtra);
      this.put(dBits, 5);
      if (dExtra > 0) this.put(dValue, dExtra);
      left -= take;
    }
  }

  /** Ends the block and adds an empty stored block, so the piece ends on a byte boundary, not final (a sync flush). */
  syncFlush(): Buffer {
    this.put(LITERAL_CODE[256] as number, LITERAL_BITS[256] as number);
    this.put(0, 3);
    while (this.#count > 0) {
      this.out[this.at++] = this.#bits & 0xff;
      this.#bits >>>= 8;
      this.#count -= 8;
    }
    this.#bits = 0;
    this.#count = 0;
    this.out[this.at++] = 0x00;
    this.out[this.at++] = 0x00;
    this.out[this.at++] = 0xff;
    this.out[this.at++] = 0xff;
    return this.out.subarray(0, this.at);
  }
}

/**
 * The deflate piece of `text`, whose line i (ending before `lineEnds[i]`)
 * is `plan.heads[i]`, a value and "\n" (the value being free ASCII).
 */
export function deflateLines(plan: LinePlan, text: Buffer, lineEnds: Uint32Array): DeflatePiece {
  // A literal takes at most 9 bits and a match fewer than the bytes it stands for, but for 3-byte ones (25 bits).
  const writer = new BitWriter(Math.ceil(text.length * 1.125) + lineEnds.length * 8 + 16);
  writer.put(0, 1); // not the last block
  writer.put(1, 2); // fixed Huffman codes
  let start = 0;
  let previousLength = 0;
  let previousHead = 0;
  for (let i = 0; i < lineEnds.length; i++) {
    const end = lineEnds[i] as number;
    const head = (plan.heads[i] as Buffer).length;
    const lineLength = end - start;
    let at = start;
    const prefix = i === 0 ? 0 : (plan.prefix[i] as number);
    const suffix = i === 0 ? 0 : (plan.suffix[i] as number);
    const suffixDistance = previousLength + head - previousHead;
    if (previousLength <= MAX_DISTANCE && suffixDistance <= MAX_DISTANCE) {
      // As planned: the shared start, the middle's codes coded once, the shared end.
      if (prefix > 0) writer.match(prefix, previousLength);
      for (let w = plan.wordStart[i] as number; w < (plan.wordStart[i + 1] as number); w++) {
        writer.put(plan.words[w] as number, plan.wordBits[w] as number);
      }
      if (suffix > 0) writer.match(suffix, suffixDistance);
      at = start + head;
    } else {
      // A line before too long to reach back to: the head as literals.
      for (; at < start + head; at++) writer.literal(text[at] as number);
    }
    for (; at < end; at++) writer.literal(text[at] as number);
    start = end;
    previousLength = lineLength;
    previousHead = head;
  }
  return { data: writer.syncFlush(), crc: crc32(text), length: text.length };
}
