/** Helpers of the decoder's browser tests: fixtures, a chunked feed, a reference decode. */
import type { PlayerError } from '../errors.js';
import type { PcmBlock, StreamInfo } from '../pcm.js';
import { StreamDecoder } from './stream-decoder.js';

export { chunked } from './frame-source-test-support.js';

export interface FixtureEntry {
  mimeType: string;
  codec: string;
  sampleRate: number;
  channels: number;
  sourceFrames: number;
  exact: boolean;
}

const FIXTURES = '/components/test/fixtures/';

export async function fixture(name: string): Promise<Uint8Array> {
  const response = await fetch(FIXTURES + name);
  if (!response.ok) throw new Error(`fixture ${name}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export async function manifest(): Promise<Record<string, FixtureEntry>> {
  return (await (await fetch(FIXTURES + 'manifest.json')).json()) as Record<string, FixtureEntry>;
}

export interface DecodeRun {
  channels: Float32Array[];
  blocks: number;
  info: StreamInfo | undefined;
  infos: StreamInfo[];
  errors: PlayerError[];
  skipped: number[];
  receivedSeconds: number;
  decoder: StreamDecoder;
  /** Set when a block did not start where the previous one ended. */
  contiguityError?: string;
}

/** Streams `chunks` through a StreamDecoder with an unlimited horizon and collects everything. */
export async function decodeChunks(
  chunks: Uint8Array[],
  mimeType: string,
  horizon = 1e9,
  decoderKind: 'auto' | 'webcodecs' | 'mpg123' | 'segments' = 'auto',
): Promise<DecodeRun> {
  const parts: Float32Array[][] = [];
  const run: DecodeRun = {
    channels: [],
    blocks: 0,
    info: undefined,
    infos: [],
    errors: [],
    skipped: [],
    receivedSeconds: 0,
    decoder: undefined as unknown as StreamDecoder,
  };
  let next = 0;
  const decoder = new StreamDecoder({
    mimeType,
    decoder: decoderKind,
    onPcm: (block: PcmBlock) => {
      if (block.startFrame !== next && !run.contiguityError) {
        run.contiguityError = `block ${run.blocks} starts at ${block.startFrame}, expected ${next}`;
      }
      next = block.startFrame + block.channels[0]!.length;
      run.blocks++;
      parts.push(block.channels.map((c) => c.slice()));
    },
    onInfo: (info) => run.infos.push(info),
    onError: (error) => run.errors.push(error),
    onDiscontinuity: (bytes) => run.skipped.push(bytes),
  });
  run.decoder = decoder;
  decoder.setHorizon(horizon);
  for (const chunk of chunks) decoder.push(chunk);
  await decoder.end();
  run.info = decoder.info;
  run.receivedSeconds = decoder.receivedSeconds;
  const channelCount = parts[0]?.length ?? 0;
  run.channels = Array.from({ length: channelCount }, (_, c) => joinFloat(parts.map((p) => p[c]!)));
  return run;
}

export function joinFloat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) out.set(part, at), (at += part.length);
  return out;
}

/** The browser's own one-shot decode of the whole file, at the file's rate (no resampling). */
export async function referenceDecode(bytes: Uint8Array, sampleRate: number): Promise<Float32Array[]> {
  const context = new OfflineAudioContext(1, 1, sampleRate);
  const buffer = await context.decodeAudioData(bytes.slice().buffer);
  return Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c));
}

/**
 * Best alignment of `a` against `b` (lag in ±maxLag, found on a window near the start) and the
 * normalised correlation of the overlapping part at that lag.
 */
export function alignedCorrelation(a: Float32Array, b: Float32Array, maxLag = 2048): { lag: number; correlation: number } {
  const window = Math.min(8192, a.length - maxLag, b.length - maxLag);
  let bestLag = 0;
  let best = -Infinity;
  const from = maxLag;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let dot = 0;
    for (let i = from; i < from + window; i++) dot += a[i]! * (b[i + lag] ?? 0);
    if (dot > best) (best = dot), (bestLag = lag);
  }
  let dot = 0;
  let ea = 0;
  let eb = 0;
  for (let i = Math.max(0, -bestLag); i < a.length && i + bestLag < b.length; i++) {
    const x = a[i]!;
    const y = b[i + bestLag]!;
    dot += x * y;
    ea += x * x;
    eb += y * y;
  }
  return { lag: bestLag, correlation: dot / Math.sqrt(ea * eb || 1) };
}

/** Longest run of samples that are exactly 0 (a gap), ignoring `edge` samples at both ends. */
export function longestZeroRun(samples: Float32Array, edge = 0): number {
  let best = 0;
  let run = 0;
  for (let i = edge; i < samples.length - edge; i++) {
    run = samples[i] === 0 ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/**
 * What the design's naive decoder does: decodeAudioData on each received segment on its own,
 * then the results end to end. Used to show that the checks above catch gaps and overlaps.
 */
export async function naiveSegmentDecode(bytes: Uint8Array, sampleRate: number, segment: number): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let at = 0; at < bytes.length; at += segment) {
    try {
      parts.push((await referenceDecode(bytes.subarray(at, at + segment), sampleRate))[0]!);
    } catch {
      // a segment that does not decode on its own is simply lost, as in the naive player
    }
  }
  return joinFloat(parts);
}
