/** Test helpers without browser APIs (Node and browser tests): byte cutting and frame collection. */
import type { EncodedFrame, FrameSink, FrameSource, TrackInfo } from './frame-source.js';

/** `bytes` cut every `size` bytes, or at the given offsets. */
export function chunked(bytes: Uint8Array, size: number | number[]): Uint8Array[] {
  const cuts = typeof size === 'number' ? [] : [...size].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  if (typeof size === 'number') {
    for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  } else {
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut > from) out.push(bytes.subarray(from, cut));
      from = Math.max(from, cut);
    }
  }
  return out;
}

/** Everything a container reader reported, frames copied out of the buffers it reuses. */
export interface CollectedFrames {
  track?: TrackInfo;
  frames: EncodedFrame[];
  totals: number[];
  skipped: number[];
  unsupported: string[];
  /** Largest `bufferedBytes` after a push. */
  maxBuffered: number;
}

/** Feeds `bytes` to the reader `make` builds, in `chunked(bytes, chunk)` pushes, then ends it. */
export function collectFrames(make: (sink: FrameSink) => FrameSource, bytes: Uint8Array, chunk: number | number[] = bytes.length): CollectedFrames {
  const out: CollectedFrames = { frames: [], totals: [], skipped: [], unsupported: [], maxBuffered: 0 };
  const source = make({
    track: (t) => (out.track = t),
    frame: (f) => out.frames.push({ ...f, data: f.data.slice() }),
    totalFrames: (n) => out.totals.push(n),
    skipped: (n) => out.skipped.push(n),
    unsupported: (r) => out.unsupported.push(r),
  });
  for (const piece of chunked(bytes, chunk)) {
    source.push(piece);
    out.maxBuffered = Math.max(out.maxBuffered, source.bufferedBytes);
  }
  source.end();
  return out;
}
