/**
 * What every container reader (codec-parser, WAV, MP4) hands the stream decoder: one track
 * description, then whole codec frames in file order. Readers only parse; they never decode.
 */

import { ByteQueue } from './byte-queue.js';

/** How a track's frames turn into PCM. */
export type TrackDecoding =
  | { kind: 'webcodecs'; config: AudioDecoderConfig }
  | { kind: 'pcm'; sampleFormat: PcmSampleFormat; bitsPerSample: number; bigEndian?: false };

/** WAV sample coding: linear PCM, or G.711 companded 8-bit (telephony recordings). */
export type PcmSampleFormat = 'uint' | 'int' | 'float' | 'mulaw' | 'alaw';

export interface TrackInfo {
  /** StreamInfo.codec: "mpeg" | "aac" | "opus" | "vorbis" | "flac" | "pcm". */
  codec: string;
  sampleRate: number;
  channelCount: number;
  decoding: TrackDecoding;
  /** Decoded samples to drop before timeline frame 0 (encoder + decoder delay, pre-skip). */
  skip: number;
  /**
   * Of that skip, how much the frames' `samples` already leave out (codec-parser subtracts Opus
   * pre-skip itself), so counting received audio does not subtract it twice.
   */
  skipAlreadyCounted: number;
  /** Timeline length in frames, when a header says so. */
  totalFrames?: number;
  /**
   * A skip the decoder may apply itself (Opus pre-skip: Chromium's decoders do, the spec leaves
   * it to the player). Decided on the first output: if it is `firstFrameSamples + samples` long,
   * the decoder did not trim and we do.
   */
  uncertainSkip?: { samples: number; firstFrameSamples: number };
}

export interface EncodedFrame {
  data: Uint8Array;
  /** Samples this frame adds to the timeline as its header counts them (before our trim). */
  samples: number;
  /** Byte offset of the frame (or its Ogg page) in the file. */
  fileOffset: number;
}

export interface FrameSink {
  track(info: TrackInfo): void;
  frame(frame: EncodedFrame): void;
  /** The timeline length became known late (the last Ogg page's granule position). */
  totalFrames(frames: number): void;
  /** Bytes that were no frame between two frames (garbage skipped by resynchronisation). */
  skipped(bytes: number): void;
  /** The container is broken beyond resynchronising, or its codec is one we cannot decode. */
  unsupported(reason: string): void;
}

export interface FrameSource {
  push(bytes: Uint8Array): void;
  /** No more bytes: emit what is complete (a truncated last frame may be emitted as is). */
  end(): void;
  /** Bytes received but not yet emitted inside a frame. */
  readonly bufferedBytes: number;
}

/**
 * The shape of the container readers of our own (WAV, MP4, WebM): bytes queue up as they arrive
 * and `parse` takes whatever whole chunks/boxes/elements are there; `final` says no more will come.
 */
export abstract class QueuedFrameSource implements FrameSource {
  protected readonly queue = new ByteQueue();

  constructor(protected readonly sink: FrameSink) {}

  get bufferedBytes(): number {
    return this.queue.length;
  }

  push(bytes: Uint8Array): void {
    this.queue.push(bytes);
    this.parse(false);
  }

  abstract end(): void;

  protected abstract parse(final: boolean): void;
}
