/**
 * Fallback decoder for browsers without a WebCodecs decoder for the codec: the browser's own
 * `decodeAudioData` on frame-aligned segments. Each segment is decoded together with the few
 * frames before it (warm-up: MP3's bit reservoir and filterbank, AAC's overlap) whose output is
 * then dropped, so the joins are exactly where a continuous decode would put them. Still frame
 * by frame and progressive, only in bigger steps than WebCodecs (its per-call cost is higher).
 */
import type { BackendCallbacks, DecodeBackend } from './decode-backend.js';
import type { EncodedFrame } from './frame-source.js';

export interface SegmentPlan {
  /** Frames decoded before each segment only to warm the decoder up. */
  warmupFrames: number;
  /** Fewest frames of new audio per segment before the end (Chromium refuses tiny MP3 inputs). */
  minFrames: number;
  /** Bytes that must open every segment (FLAC: "fLaC" + STREAMINFO). */
  prefix?: Uint8Array;
}

/** How each codec can be cut into independently decodable segments, or undefined if it cannot. */
export function segmentPlan(codec: string, description: Uint8Array | undefined): SegmentPlan | undefined {
  switch (codec) {
    case 'mpeg':
      // bit reservoir ≤ 511 bytes (≤ ~3 frames) + one for the filterbank; decodeAudioData
      // rejects an MP3 of one or two frames ("Unable to decode audio data").
      return { warmupFrames: 4, minFrames: 8 };
    case 'aac':
      return description ? undefined : { warmupFrames: 2, minFrames: 1 }; // ADTS only
    case 'flac':
      return description ? { warmupFrames: 0, minFrames: 1, prefix: description } : undefined;
    default:
      return undefined;
  }
}

export class SegmentBackend implements DecodeBackend {
  readonly #plan: SegmentPlan;
  readonly #sampleRate: number;
  readonly #channelCount: number;
  readonly #callbacks: BackendCallbacks;
  /** The last frames decoded: the next segment's warm-up. */
  #history: EncodedFrame[] = [];
  #tail: Promise<void> = Promise.resolve();
  #context: OfflineAudioContext | undefined;
  #closed = false;

  /**
   * `history`: the frames just before the first one this backend gets, when it takes over a
   * stream another backend began (the warm-up of its first segment).
   */
  constructor(plan: SegmentPlan, sampleRate: number, channelCount: number, callbacks: BackendCallbacks, history: EncodedFrame[] = []) {
    this.#plan = plan;
    this.#history = plan.warmupFrames > 0 ? history.slice(-plan.warmupFrames) : [];
    this.#sampleRate = sampleRate;
    this.#channelCount = channelCount;
    this.#callbacks = callbacks;
  }

  decode(frames: EncodedFrame[]): void {
    if (this.#closed || frames.length === 0) return;
    const warmup = this.#history;
    this.#history = [...warmup, ...frames].slice(-this.#plan.warmupFrames || Infinity);
    if (this.#plan.warmupFrames === 0) this.#history = [];
    this.#tail = this.#tail
      .then(() => (this.#closed ? undefined : this.#decodeSegment(warmup, frames)))
      .catch((error: unknown) => {
        if (this.#closed) return;
        this.close();
        this.#callbacks.error(error);
      });
  }

  flush(): Promise<void> {
    return this.#tail;
  }

  close(): void {
    this.#closed = true;
  }

  async #decodeSegment(warmup: EncodedFrame[], frames: EncodedFrame[]): Promise<void> {
    const parts = [...(this.#plan.prefix ? [this.#plan.prefix] : []), ...warmup.map((f) => f.data), ...frames.map((f) => f.data)];
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) bytes.set(part, at), (at += part.length);
    // One context for all segments: decodeAudioData never renders it.
    this.#context ??= new OfflineAudioContext(this.#channelCount, 1, this.#sampleRate);
    const buffer = await this.#context.decodeAudioData(bytes.buffer);
    if (this.#closed) return;
    const skip = warmup.reduce((n, f) => n + f.samples, 0);
    const framed = frames.reduce((n, f) => n + f.samples, 0);
    // Exactly the segment's own frames: a decoder that output less (trimmed) is padded with
    // silence, except in the last frame: there, less means a truncated final frame, which
    // WebCodecs drops without a sound, and so does this.
    const length = Math.min(framed, Math.max(buffer.length - skip, framed - frames[frames.length - 1]!.samples));
    const channels = Array.from({ length: this.#channelCount }, (_, c) => {
      const out = new Float32Array(length);
      // copyFromChannel copies straight from the buffer (no getChannelData view to materialise).
      const available = Math.max(0, Math.min(length, buffer.length - skip));
      if (available > 0) buffer.copyFromChannel(out.subarray(0, available), Math.min(c, buffer.numberOfChannels - 1), skip);
      return out;
    });
    this.#callbacks.output({ channels, sampleRate: this.#sampleRate });
  }
}
