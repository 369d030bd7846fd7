/**
 * Places decoded PCM on the track's timeline: drops the first `skip` decoded samples (encoder and
 * decoder delay, Opus pre-skip) and everything past `totalFrames` (padding, Ogg end trim), so the
 * emitted length is the real length of the track, and numbers blocks contiguously from frame 0.
 */
import type { PcmBlock } from '../pcm.js';

export class TimelineTrimmer {
  #toSkip: number;
  #total: number | undefined;
  /** Timeline frames emitted so far (= startFrame of the next block). */
  emitted = 0;

  constructor(skip: number, totalFrames?: number) {
    this.#toSkip = skip;
    this.#total = totalFrames;
  }

  /** More to drop at the start (only meaningful before the first block). */
  addSkip(frames: number): void {
    this.#toSkip += frames;
  }

  setTotal(totalFrames: number): void {
    this.#total = totalFrames;
  }

  /** Decoded samples in, the part of them on the timeline out (or nothing). */
  place(channels: Float32Array[], sampleRate: number): PcmBlock | undefined {
    let from = 0;
    const length = channels[0]?.length ?? 0;
    if (this.#toSkip > 0) {
      from = Math.min(this.#toSkip, length);
      this.#toSkip -= from;
    }
    let to = length;
    if (this.#total !== undefined) to = Math.min(to, from + Math.max(0, this.#total - this.emitted));
    if (to <= from) return undefined;
    const block: PcmBlock = {
      channels: from === 0 && to === length ? channels : channels.map((c) => c.subarray(from, to)),
      sampleRate,
      startFrame: this.emitted,
    };
    this.emitted += to - from;
    return block;
  }
}
