/**
 * Picks the container parser from the first bytes of the file. The bytes' magic numbers win over
 * the server's `mimeType` (a mislabelled file still plays; a PNG named `.mp3` is refused at once);
 * the mimeType only breaks the tie when an ID3v2 tag hides what follows it.
 */
export type ContainerFormat = 'mpeg' | 'adts' | 'ogg' | 'flac' | 'wav' | 'mp4';

export type SniffResult =
  | { kind: 'format'; format: ContainerFormat }
  /** Not enough bytes yet to decide; ask again with more (or with `final` at end of stream). */
  | { kind: 'need-more' }
  | { kind: 'unsupported'; reason: string };

/** Bytes needed to recognise every format we know (RIFF….WAVE and ….ftyp need 12). */
export const SNIFF_BYTES = 12;

const ascii = (bytes: Uint8Array, at: number, text: string): boolean => {
  if (bytes.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
};

export function sniffFormat(head: Uint8Array, mimeType: string, final = false): SniffResult {
  if (head.length < SNIFF_BYTES && !final) return { kind: 'need-more' };
  const mime = mimeType.toLowerCase();
  if (ascii(head, 0, 'ID3')) {
    if (/aac/.test(mime)) return { kind: 'format', format: 'adts' };
    return { kind: 'format', format: 'mpeg' };
  }
  if (ascii(head, 0, 'OggS')) return { kind: 'format', format: 'ogg' };
  if (ascii(head, 0, 'fLaC')) return { kind: 'format', format: 'flac' };
  if ((ascii(head, 0, 'RIFF') || ascii(head, 0, 'RF64')) && ascii(head, 8, 'WAVE')) {
    return { kind: 'format', format: 'wav' };
  }
  if (ascii(head, 4, 'ftyp')) return { kind: 'format', format: 'mp4' };
  if (head.length >= 4 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) {
    const layer = (head[1]! >> 1) & 0b11;
    const version = (head[1]! >> 3) & 0b11;
    // ADTS: 12-bit sync, layer always 00. MPEG audio: 11-bit sync, layer 01..11, version ≠ 01.
    if ((head[1]! & 0xf0) === 0xf0 && layer === 0) return { kind: 'format', format: 'adts' };
    if (layer !== 0 && version !== 1) return { kind: 'format', format: 'mpeg' };
  }
  const shown = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return { kind: 'unsupported', reason: `no known audio format starts with ${shown || 'nothing'}` };
}
