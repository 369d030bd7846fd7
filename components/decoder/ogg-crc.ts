/** The Ogg page checksum, shared by the page reader (ogg-source.ts) and the Vorbis segment writer. */

export const OGG_CAPTURE = new Uint8Array([0x4f, 0x67, 0x67, 0x53]); // "OggS"

/**
 * The Ogg page checksum (RFC 3533 §6; Xiph framing spec): CRC-32 with generator polynomial
 * 0x04c11db7, initial value 0, no bit reflection, no final xor — not zlib's CRC-32 (reflected,
 * inverted), which shares only the polynomial. A page whose checksum is wrong is dropped.
 */
export function oggCrc(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  // Slice-by-8 (eight bytes per step through eight derived tables): the plain byte-at-a-time loop
  // was ~9 ns a byte; every page read is checked and every segment written gets its own.
  let crc = initial;
  let i = start;
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  for (const last = end - 7; i < last; i += 8) {
    crc ^= (bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!;
    crc =
      t7[crc >>> 24]! ^
      t6[(crc >>> 16) & 0xff]! ^
      t5[(crc >>> 8) & 0xff]! ^
      t4[crc & 0xff]! ^
      t3[bytes[i + 4]!]! ^
      t2[bytes[i + 5]!]! ^
      t1[bytes[i + 6]!]! ^
      t0[bytes[i + 7]!]!;
  }
  for (; i < end; i++) crc = (crc << 8) ^ t0[((crc >>> 24) ^ bytes[i]!) & 0xff]!;
  return crc >>> 0;
}

/** CRC_TABLES[0] is the byte-at-a-time table; [k][b] is the CRC of byte b followed by k zero bytes. */
const CRC_TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    tables[0]![i] = r;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const previous = tables[k - 1]![i]!;
      tables[k]![i] = (previous << 8) ^ tables[0]![(previous >>> 24) & 0xff]!;
    }
  }
  return tables as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
})();
