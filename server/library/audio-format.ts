/**
 * Which audio format a file holds. The extension says what the file claims to be (and decides
 * what the library lists); the first bytes decide whether it really is audio and its MIME type,
 * so a renamed text file is refused and a mislabelled Ogg is served as Ogg.
 */

const EXTENSION_MIME: Readonly<Record<string, string>> = {
  '.mp3': 'audio/mpeg',
  '.mpga': 'audio/mpeg',
  '.aac': 'audio/aac',
  '.adts': 'audio/aac',
  '.m4a': 'audio/mp4',
  '.mp4': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.flac': 'audio/flac',
  '.wav': 'audio/wav',
  '.weba': 'audio/webm',
  '.webm': 'audio/webm',
  '.mka': 'audio/webm',
};

/** Bytes needed by {@link sniffAudioMime} (an ID3v2 header is 10, `ftyp` sits at 4..8, WAVE at 8..12). */
export const SNIFF_BYTES = 12;

/** MIME type claimed by a file name's extension, or undefined for a name that is not audio. */
export function mimeFromExtension(fileName: string): string | undefined {
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return EXTENSION_MIME[fileName.slice(dot).toLowerCase()];
}

const ascii = (bytes: Uint8Array, at: number, text: string): boolean =>
  bytes.length >= at + text.length && [...text].every((char, i) => bytes[at + i] === char.charCodeAt(0));

/**
 * MIME type from the magic numbers at the start of a file, or undefined when they are not an
 * audio format we stream. MPEG audio and ADTS share the 11-bit frame sync; the layer bits tell
 * them apart (ADTS has layer 00).
 */
export function sniffAudioMime(head: Uint8Array): string | undefined {
  if (ascii(head, 0, 'ID3')) return 'audio/mpeg';
  if (ascii(head, 0, 'fLaC')) return 'audio/flac';
  if (ascii(head, 0, 'OggS')) return 'audio/ogg';
  if ((ascii(head, 0, 'RIFF') || ascii(head, 0, 'RF64')) && ascii(head, 8, 'WAVE')) return 'audio/wav';
  if (ascii(head, 4, 'ftyp')) return 'audio/mp4';
  if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) {
    return 'audio/webm';
  }
  if (head.length >= 3 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) {
    const version = (head[1]! >> 3) & 0b11;
    const layer = (head[1]! >> 1) & 0b11;
    if (layer === 0b00) return (head[1]! & 0xf6) === 0xf0 && (head[2]! >> 2) % 16 < 13 ? 'audio/aac' : undefined;
    const bitrateIndex = head[2]! >> 4;
    const sampleRateIndex = (head[2]! >> 2) & 0b11;
    // Version 01 is reserved; bitrate 1111 and sample rate 11 are invalid: random 0xFFEx is not MP3.
    if (version !== 0b01 && bitrateIndex !== 0b1111 && sampleRateIndex !== 0b11) return 'audio/mpeg';
  }
  return undefined;
}
