/**
 * Picks the container parser from the first bytes of the file. The bytes' magic numbers win over
 * the server's `mimeType` (a mislabelled file still plays; a PNG named `.mp3` is refused at once);
 * the mimeType only breaks the tie when an ID3v2 tag hides what follows it.
 */
export type ContainerFormat = 'mpeg' | 'adts' | 'ogg' | 'flac' | 'wav' | 'mp4' | 'webm';

export type SniffResult =
  /** `skip`: bytes before the container proper (an ID3v2 tag some taggers put before `fLaC`). */
  | { kind: 'format'; format: ContainerFormat; skip?: number }
  /**
   * Not enough bytes yet to decide; ask again with more (at least `bytes` in all, when said) or
   * with `final` at end of stream.
   */
  | { kind: 'need-more'; bytes?: number }
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
    // An ID3v2 tag says nothing of what follows it: look past it (its size is in its header).
    const tagEnd = id3v2Length(head);
    if (tagEnd !== undefined && head.length < tagEnd + 4 && !final) return { kind: 'need-more', bytes: tagEnd + 4 };
    if (tagEnd !== undefined && ascii(head, tagEnd, 'fLaC')) return { kind: 'format', format: 'flac', skip: tagEnd };
    if (tagEnd !== undefined && head[tagEnd] === 0xff && ((head[tagEnd + 1] ?? 0) & 0xf6) === 0xf0) return { kind: 'format', format: 'adts' };
    // MPEG audio (codec-parser reads past the tag itself), or too little to tell: the label decides.
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
  // EBML: WebM or Matroska (the reader takes Opus from either).
  if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return { kind: 'format', format: 'webm' };
  // Containers met in practice that we do not read: refused by name.
  if (ascii(head, 0, 'FORM') && (ascii(head, 8, 'AIFF') || ascii(head, 8, 'AIFC'))) return { kind: 'unsupported', reason: 'AIFF is not supported' };
  if (ascii(head, 0, 'caff')) return { kind: 'unsupported', reason: 'Core Audio Format (CAF) is not supported' };
  const shown = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return { kind: 'unsupported', reason: `no known audio format starts with ${shown || 'nothing'}` };
}

/** Bytes of the ID3v2 tag at the start of `head` (header, body and footer), if its header is whole. */
function id3v2Length(head: Uint8Array): number | undefined {
  if (head.length < 10) return undefined;
  let size = 0;
  for (let i = 6; i < 10; i++) {
    if (head[i]! & 0x80) return undefined; // not syncsafe: not an ID3v2 header
    size = (size << 7) | head[i]!;
  }
  return 10 + size + (head[5]! & 0x10 ? 10 : 0);
}
