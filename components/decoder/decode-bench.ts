/**
 * Measures the decoder from a page, for `npm run bench`: the streaming StreamDecoder against the
 * browser's one-shot `decodeAudioData` of the same bytes. Wall time only — CPU time of all of
 * Chromium's processes is best read from outside (e.g. /proc/<pid>/stat around the call).
 */
import { StreamDecoder } from './stream-decoder.js';

export interface DecodePassResult {
  /** Wall milliseconds from the first push (or the decodeAudioData call) to the last PCM. */
  wallMs: number;
  /** The same, scaled to one minute of audio. */
  wallMsPerMinute: number;
  /** Timeline seconds of audio produced. */
  audioSeconds: number;
}

export interface StreamingPassResult extends DecodePassResult {
  /** Wall milliseconds from the first push to the first onPcm. */
  firstPcmMs: number;
  /** Largest `heldBytes` during the run. */
  maxHeldBytes: number;
}

export interface DecodeBenchOptions {
  /** Bytes per push (default 65536, the DataChannel chunk size). */
  chunkSize?: number;
  /**
   * Yield to the event loop between pushes, as chunks arriving from the network do (default
   * true); false pushes the whole file in one synchronous loop.
   */
  yieldBetweenChunks?: boolean;
  /** StreamDecoderOptions.decoder for the streaming pass (default 'auto'). */
  decoder?: 'auto' | 'webcodecs' | 'segments';
  /** Which decoders to run (default both, streaming first). */
  passes?: ('streaming' | 'oneShot')[];
}

export interface DecodeBenchResult {
  streaming?: StreamingPassResult;
  oneShot?: DecodePassResult;
}

/** Decodes `bytes` with the StreamDecoder (no horizon: as fast as it goes). */
export async function measureStreamingDecode(
  bytes: Uint8Array,
  mimeType: string,
  chunkSize = 65536,
  yieldBetweenChunks = true,
  decoderKind: 'auto' | 'webcodecs' | 'segments' = 'auto',
): Promise<StreamingPassResult> {
  let frames = 0;
  let sampleRate = 1;
  let firstPcm: number | undefined;
  let failure: Error | undefined;
  const start = performance.now();
  const decoder = new StreamDecoder({
    mimeType,
    decoder: decoderKind,
    onPcm: (block) => {
      firstPcm ??= performance.now();
      frames += block.channels[0]?.length ?? 0;
      sampleRate = block.sampleRate;
    },
    onInfo: () => {},
    onError: (error) => (failure = error),
  });
  decoder.setHorizon(Number.POSITIVE_INFINITY);
  for (let at = 0; at < bytes.length; at += chunkSize) {
    decoder.push(bytes.subarray(at, at + chunkSize));
    if (yieldBetweenChunks) await nextTask();
  }
  await decoder.end();
  const wallMs = performance.now() - start;
  const maxHeldBytes = decoder.maxHeldBytes;
  decoder.destroy();
  if (failure) throw failure;
  const audioSeconds = frames / sampleRate;
  return { wallMs, wallMsPerMinute: (wallMs * 60) / audioSeconds, audioSeconds, firstPcmMs: (firstPcm ?? NaN) - start, maxHeldBytes };
}

/** The browser's own whole-file decode, at `sampleRate` (give the file's rate to avoid resampling). */
export async function measureOneShotDecode(bytes: Uint8Array, sampleRate: number): Promise<DecodePassResult> {
  const context = new OfflineAudioContext(1, 1, sampleRate);
  const copy = bytes.slice().buffer;
  const start = performance.now();
  const buffer = await context.decodeAudioData(copy);
  const wallMs = performance.now() - start;
  return { wallMs, wallMsPerMinute: (wallMs * 60) / buffer.duration, audioSeconds: buffer.duration };
}

/** Both passes on the same bytes, in the same page. */
export async function measureDecode(bytes: Uint8Array, mimeType: string, options: DecodeBenchOptions = {}): Promise<DecodeBenchResult> {
  const passes = options.passes ?? ['streaming', 'oneShot'];
  const result: DecodeBenchResult = {};
  let sampleRate = 48000;
  if (passes.includes('streaming')) {
    let info: number | undefined;
    const probe = new StreamDecoder({ mimeType, onPcm: () => {}, onInfo: (i) => (info = i.sampleRate), onError: () => {} });
    probe.push(bytes.subarray(0, Math.min(bytes.length, 256 * 1024)));
    probe.destroy();
    sampleRate = info ?? sampleRate;
    result.streaming = await measureStreamingDecode(bytes, mimeType, options.chunkSize, options.yieldBetweenChunks, options.decoder);
  }
  if (passes.includes('oneShot')) result.oneShot = await measureOneShotDecode(bytes, sampleRate);
  return result;
}

/**
 * A macrotask without setTimeout's clamping (and unthrottled in background tabs). One channel for
 * all yields: a new MessageChannel per chunk cost ~80 µs (a pipe each), charged to the decoder.
 */
function nextTask(): Promise<void> {
  yieldChannel ??= new MessageChannel();
  const channel = yieldChannel;
  return new Promise((resolve) => {
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}
let yieldChannel: MessageChannel | undefined;
