/**
 * Fallback decoder for browsers without a WebCodecs decoder for the codec: the browser's own
 * `decodeAudioData` on frame-aligned segments. Each segment is decoded together with the few
 * frames before it (warm-up: MP3's bit reservoir and filterbank, AAC's overlap) whose output is
 * then dropped, so the joins are exactly where a continuous decode would put them. Still frame
 * by frame and progressive, only in bigger steps than WebCodecs (its per-call cost is higher).
 */
import type { BackendCallbacks, DecodeBackend, DecodedPcm } from './decode-backend.js';
import type { EncodedFrame } from './frame-source.js';
import { mpegWarmupFrames } from './mpeg-gapless.js';
import { oggVorbisFile, readVorbisHeaders } from './ogg-vorbis-segment.js';

export interface SegmentPlan {
  /** Frames decoded before each segment only to warm the decoder up (with `warmup`: at most). */
  warmupFrames: number;
  /** How many of the frames before a segment (`history`) it needs as warm-up, when that varies. */
  warmup?: (history: readonly EncodedFrame[], first: EncodedFrame) => number;
  /** Fewest frames of new audio per segment before the end (Chromium refuses tiny MP3 inputs). */
  minFrames: number;
  /** Most frames per segment (default: the stream decoder's). */
  maxFrames?: number;
  /** Bytes that must open every segment (FLAC: "fLaC" + STREAMINFO). */
  prefix?: Uint8Array;
  /**
   * Builds a segment's file when frames cannot simply be concatenated (Vorbis: packets re-muxed
   * into Ogg pages). `skip`: decoded samples before the segment's own frames; `missing`: samples
   * of the segment's first frame the decoder cannot return (kept as silence, at the start).
   */
  build?: (warmup: EncodedFrame[], frames: EncodedFrame[]) => { bytes: Uint8Array; skip: number; missing: number };
}

/** How each codec can be cut into independently decodable segments, or undefined if it cannot. */
export function segmentPlan(codec: string, description: Uint8Array | undefined): SegmentPlan | undefined {
  switch (codec) {
    case 'mpeg':
      // The frames the bit reservoir (≤ 511 bytes) reaches back into + one for the filterbank:
      // 4 at 128 kbit/s, up to ~11 at the lowest bitrates (mpegWarmupFrames); decodeAudioData
      // rejects an MP3 of one or two frames ("Unable to decode audio data"). Up to 768 frames
      // (20 s at 44.1 kHz; during playback the horizon rule keeps segments near 7 s): 4 warm-up
      // frames then add 0.5 % to the decoding, and each call's own cost (its main-thread part
      // among it) comes 4× less often than with 192 (measured: main thread 40 → 32 ms per
      // minute of audio, total 1.29× → 1.26× native for CBR, 1.28× → 1.15× for VBR).
      return {
        warmupFrames: 16,
        warmup: (history, first) => mpegWarmupFrames(history.map((frame) => frame.data), first.data, 4),
        minFrames: 8,
        maxFrames: 768,
      };
    case 'aac':
      return description ? undefined : { warmupFrames: 2, minFrames: 1 }; // ADTS only
    case 'flac':
      // No warm-up: FLAC frames decode on their own. Up to 192 frames (~18 s of 4096-sample
      // blocks): per-thread CPU per minute of audio, median of 9 runs, was 184 ms with 48, 161
      // with 192, 182 with 384 (native one-shot: 118), the main thread's share 67 → 62.
      return description ? { warmupFrames: 0, minFrames: 1, maxFrames: 192, prefix: description } : undefined;
    case 'vorbis': {
      const headers = description && readVorbisHeaders(description);
      if (!headers) return undefined;
      // A Vorbis packet's output is the overlap of its block with the previous packet's: one
      // packet of warm-up primes it, and a decoder returns nothing for the first packet it sees,
      // so nothing is dropped. Granules count from that warm-up, so no end is trimmed either.
      return {
        warmupFrames: 1,
        minFrames: 2,
        // ~12 s of audio: a call costs ~3 ms before it decodes anything (its own parse of the
        // setup header's codebooks among it), ~4× what WebCodecs spends per packet.
        maxFrames: 1024,
        build: (warmup, frames) => {
          const packets = [...warmup, ...frames];
          const samples = packets.map((frame, i) => (i === 0 ? 0 : frame.samples));
          const bytes = oggVorbisFile(headers, packets.map((frame) => frame.data), samples);
          return { bytes, skip: 0, missing: warmup.length === 0 ? frames[0]!.samples : 0 };
        },
      };
    }
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
  /** Segments given to decode() and not yet output. */
  #pending = 0;
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

  get decodingSegment(): boolean {
    return this.#pending > 0;
  }

  decode(frames: EncodedFrame[]): void {
    if (this.#closed || frames.length === 0) return;
    this.#pending++;
    const warmup = this.#plan.warmup ? this.#history.slice(this.#history.length - this.#plan.warmup(this.#history, frames[0]!)) : this.#history;
    this.#history = [...warmup, ...frames].slice(-this.#plan.warmupFrames || Infinity);
    if (this.#plan.warmupFrames === 0) this.#history = [];
    this.#tail = this.#tail
      .then(async () => {
        let pcm: DecodedPcm | undefined;
        try {
          if (!this.#closed) pcm = await this.#decodeSegment(warmup, frames);
        } finally {
          this.#pending--;
        }
        if (pcm && !this.#closed) this.#callbacks.output(pcm);
      })
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

  /** The PCM of the segment's own frames (undefined if closed meanwhile). */
  async #decodeSegment(warmup: EncodedFrame[], frames: EncodedFrame[]): Promise<DecodedPcm | undefined> {
    const framed = frames.reduce((n, f) => n + f.samples, 0);
    const { bytes, skip, missing } = this.#plan.build?.(warmup, frames) ?? this.#concatenate(warmup, frames);
    if (framed === missing) {
      // Nothing to decode (a Vorbis stream's first packet on its own): its time, if any, is
      // silence; an output even if empty, so the stream decoder counts the frames done.
      return { channels: Array.from({ length: this.#channelCount }, () => new Float32Array(framed)), sampleRate: this.#sampleRate };
    }
    // One context for all segments: decodeAudioData never renders it.
    this.#context ??= new OfflineAudioContext(this.#channelCount, 1, this.#sampleRate);
    const buffer = await this.#context.decodeAudioData(bytes.buffer as ArrayBuffer);
    if (this.#closed) return undefined;
    // Exactly the segment's own frames: a decoder that output less (trimmed) is padded with
    // silence, except in the last frame: there, less means a truncated final frame, which
    // WebCodecs drops without a sound, and so does this.
    const decoded = missing + buffer.length - skip;
    const length = Math.min(framed, Math.max(decoded, framed - frames[frames.length - 1]!.samples));
    if (missing === 0 && skip + length <= buffer.length && buffer.numberOfChannels === this.#channelCount) {
      // The buffer holds all of the segment's samples (after MP3's warm-up, or all of it for
      // Vorbis and FLAC): views of its own arrays, no copy. Nothing else holds the buffer, so
      // the playback engine may transfer them to the worklet as they are (warm-up and all).
      const channels = Array.from({ length: this.#channelCount }, (_, c) => buffer.getChannelData(c).subarray(skip, skip + length));
      return { channels, sampleRate: this.#sampleRate, ownsBuffers: true };
    }
    const channels = Array.from({ length: this.#channelCount }, (_, c) => {
      const out = new Float32Array(length);
      // copyFromChannel copies straight from the buffer (no getChannelData view to materialise).
      const available = Math.max(0, Math.min(length, decoded) - missing);
      if (available > 0) buffer.copyFromChannel(out.subarray(missing, missing + available), Math.min(c, buffer.numberOfChannels - 1), skip);
      return out;
    });
    return { channels, sampleRate: this.#sampleRate };
  }

  /** Frames back to back after the plan's prefix; the warm-up's samples are dropped. */
  #concatenate(warmup: EncodedFrame[], frames: EncodedFrame[]): { bytes: Uint8Array; skip: number; missing: number } {
    const parts = [...(this.#plan.prefix ? [this.#plan.prefix] : []), ...warmup.map((f) => f.data), ...frames.map((f) => f.data)];
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) bytes.set(part, at), (at += part.length);
    return { bytes, skip: warmup.reduce((n, f) => n + f.samples, 0), missing: 0 };
  }
}
