/**
 * The CRC-32 of two texts one after the other, from the CRC-32 of each and
 * the second's length, without reading the texts again: zlib's
 * crc32_combine as of zlib 1.2.12 (Mark Adler's method by multiplication
 * modulo the polynomial), which Node's zlib does not expose. It lets a gzip
 * body's trailer be made from the CRCs its kept pieces were stored with.
 *
 * A gzip scrape combines one CRC per kept piece (hundreds at 10,000
 * calculations), so the factor for a length is kept: pieces of settled text
 * share a handful of lengths, and then a combination is one multiplication.
 */
const POLYNOMIAL = 0xedb88320;
/** x^0, as CRC-32 holds polynomials: bit-reflected, x^0 in the top bit. */
const ONE = 0x80000000;

/** a(x) * b(x) modulo the CRC-32 polynomial. */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  for (let m = ONE; m !== 0; m >>>= 1) {
    if ((a & m) !== 0) {
      product ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLYNOMIAL : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo the polynomial, for k = 0..31. */
const X_TO_TWO_TO_THE: Uint32Array = (() => {
  const table = new Uint32Array(32);
  let p = ONE >>> 1; // x^1
  table[0] = p;
  for (let k = 1; k < 32; k++) table[k] = p = multiplyModP(p, p);
  return table;
})();

/** x^(8 * bytes) modulo the polynomial: the factor that appends `bytes` zero bytes to a CRC. */
function zeroBytesFactor(bytes: number): number {
  let p = ONE;
  // 8 * bytes = bytes * 2^3: start three squarings up. Lengths beyond 2^53 cannot occur.
  for (let k = 3; bytes > 0; k++, bytes = Math.floor(bytes / 2)) {
    if (bytes % 2 === 1) p = multiplyModP(X_TO_TWO_TO_THE[k & 31] ?? 0, p);
  }
  return p;
}

/** Factors by length, bounded: settled pieces have few distinct lengths, scrape text many. */
const factors = new Map<number, number>();
const MAX_FACTORS = 1024;

function factorFor(bytes: number): number {
  let factor = factors.get(bytes);
  if (factor === undefined) {
    factor = zeroBytesFactor(bytes);
    if (factors.size >= MAX_FACTORS) factors.clear();
    factors.set(bytes, factor);
  }
  return factor;
}

export function crc32Combine(crc1: number, crc2: number, length2: number): number {
  if (length2 <= 0) return crc1 >>> 0;
  return (multiplyModP(factorFor(length2), crc1 >>> 0) ^ crc2) >>> 0;
}
