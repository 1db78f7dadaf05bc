/**
 * The CRC-32 of two texts one after the other, from the CRC-32 of each and
 * the second's length, without reading the texts again: zlib's
 * crc32_combine (Mark Adler's method), which Node's zlib does not expose.
 * It lets a gzip body's trailer be made from the CRCs its kept pieces were
 * stored with. Operators are 32x32 matrices over GF(2), one row per bit.
 */
const CRC32_POLYNOMIAL = 0xedb88320;

function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0; vector !== 0; i++, vector >>>= 1) if ((vector & 1) !== 0) sum ^= matrix[i] ?? 0;
  return sum >>> 0;
}

function square(into: Uint32Array, matrix: Uint32Array): void {
  for (let i = 0; i < 32; i++) into[i] = times(matrix, matrix[i] ?? 0);
}

export function crc32Combine(crc1: number, crc2: number, length2: number): number {
  if (length2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  // The operator for one zero bit.
  odd[0] = CRC32_POLYNOMIAL;
  for (let i = 1, row = 1; i < 32; i++, row <<= 1) odd[i] = row >>> 0;
  square(even, odd); // two zero bits
  square(odd, even); // four zero bits
  let crc = crc1 >>> 0;
  let bytes = length2;
  // Apply length2 zero bytes to crc1, squaring the operator for each bit of the length.
  do {
    square(even, odd);
    if (bytes % 2 === 1) crc = times(even, crc);
    bytes = Math.floor(bytes / 2);
    if (bytes === 0) break;
    square(odd, even);
    if (bytes % 2 === 1) crc = times(odd, crc);
    bytes = Math.floor(bytes / 2);
  } while (bytes !== 0);
  return (crc ^ crc2) >>> 0;
}
