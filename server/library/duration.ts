/**
 * Duration of a track from its frames (codec-parser: MP3, AAC/ADTS, Ogg Opus/Vorbis/FLAC, FLAC),
 * read with async I/O in slices so a long file never blocks the event loop for long.
 * Approximate by up to one frame (an MP3's Xing/Info frame counts as audio here).
 */
import { open } from 'node:fs/promises';
import CodecParser, { type MimeType } from 'codec-parser';

const PARSEABLE = new Set<string>(['audio/mpeg', 'audio/aac', 'audio/flac', 'audio/ogg']);
/** Files above this are not parsed for a duration (it would cost more than it is worth). */
export const MAX_DURATION_PARSE_BYTES = 256 * 1024 * 1024;
// Small slices with a yield between them keep the event loop (and every stream) responsive.
const SLICE_BYTES = 16 * 1024;
/** After this much input, give up unless at least half of it parsed as frames: not clean audio. */
const PROBE_BYTES = 64 * 1024;

/** Seconds of audio in the file, or undefined when the format or the bytes do not say. */
export async function readDuration(file: string, mimeType: string): Promise<number | undefined> {
  if (!PARSEABLE.has(mimeType)) return undefined;
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0 || size > MAX_DURATION_PARSE_BYTES) return undefined;
    const parser = new CodecParser(mimeType as MimeType, { enableLogging: false });
    let totalMs = 0;
    let framedBytes = 0;
    const take = (frames: Iterable<{ totalDuration: number; totalBytesOut: number }>) => {
      for (const frame of frames) {
        totalMs = Math.max(totalMs, frame.totalDuration);
        framedBytes = Math.max(framedBytes, frame.totalBytesOut);
      }
    };
    const slice = new Uint8Array(SLICE_BYTES);
    for (let position = 0; position < size; ) {
      const { bytesRead } = await handle.read(slice, 0, SLICE_BYTES, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      // codec-parser may keep a view of what it is given: hand it its own copy.
      take({ [Symbol.iterator]: () => parser.parseChunk(slice.slice(0, bytesRead)) });
      // Searching garbage for frame syncs is slow in codec-parser: stop early on non-audio.
      if (position >= PROBE_BYTES && framedBytes < position / 2) return undefined;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    take({ [Symbol.iterator]: () => parser.flush() });
    return totalMs > 0 ? Math.round(totalMs) / 1000 : undefined;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}
