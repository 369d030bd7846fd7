/**
 * Two backends in sequence on one stream: the frames of the first `leadSamples` go to a backend that is
 * quick to its first samples (WebCodecs, one frame per chunk), every later frame to one that is
 * cheaper per minute (decodeAudioData on large frame-aligned segments, which pays WebCodecs'
 * per-chunk cost once per segment instead of once per frame). The second starts with the last
 * frames of the first as its warm-up, so it puts the join exactly where one continuous decode
 * would; its outputs wait until the first has delivered all of its own, so order is kept.
 */
import type { BackendCallbacks, DecodeBackend, DecodedPcm } from './decode-backend.js';
import type { EncodedFrame } from './frame-source.js';

export class HandoverBackend implements DecodeBackend {
  readonly #callbacks: BackendCallbacks;
  readonly #makeSecond: (history: EncodedFrame[], callbacks: BackendCallbacks) => DecodeBackend;
  readonly #historyFrames: number;
  #first: DecodeBackend | undefined;
  #second: DecodeBackend | undefined;
  /** Samples still to go to the first backend (a frame that starts before this goes there whole). */
  #leadLeft: number;
  /** The last frames given to the first backend: the second's warm-up. */
  #history: EncodedFrame[] = [];
  /** Resolves once the first backend has delivered everything (then the second's outputs flow). */
  #firstDone: Promise<void> | undefined;
  #held: DecodedPcm[] | undefined = [];
  #firstOutputs = 0;
  #closed = false;

  constructor(
    leadSamples: number,
    historyFrames: number,
    makeFirst: (callbacks: BackendCallbacks) => DecodeBackend,
    makeSecond: (history: EncodedFrame[], callbacks: BackendCallbacks) => DecodeBackend,
    callbacks: BackendCallbacks,
  ) {
    this.#leadLeft = leadSamples;
    this.#historyFrames = historyFrames;
    this.#makeSecond = makeSecond;
    this.#callbacks = callbacks;
    this.#first = makeFirst({
      output: (pcm) => {
        if (this.#closed) return;
        this.#firstOutputs++;
        callbacks.output(pcm);
      },
      error: (error) => this.#error(error),
    });
  }

  /**
   * Also true from the handover until the first backend's first output: the first segment then
   * waits (gathering frames) rather than compete with WebCodecs for the CPU before the first
   * samples are out; that output pumps the stream decoder again.
   */
  get decodingSegment(): boolean {
    if (!this.#second) return false;
    return this.#firstOutputs === 0 || (this.#second.decodingSegment ?? false);
  }

  /** Frames still go to the first backend (the stream decoder batches them for it). */
  get leading(): boolean {
    return this.#leadLeft > 0;
  }

  decode(frames: EncodedFrame[]): void {
    if (this.#closed || frames.length === 0) return;
    let split = 0;
    while (split < frames.length && this.#leadLeft > 0) this.#leadLeft -= frames[split++]!.samples;
    const lead = split === frames.length ? frames : frames.slice(0, split);
    if (lead.length > 0) {
      if (this.#historyFrames > 0) this.#history = [...this.#history, ...lead].slice(-this.#historyFrames);
      this.#first!.decode(lead);
    }
    const rest = split === frames.length ? [] : frames.slice(split);
    if (rest.length === 0 || this.#closed) return;
    if (!this.#second) this.#handOver();
    this.#second!.decode(rest);
  }

  async flush(): Promise<void> {
    if (this.#closed) return;
    const second = this.#second;
    if (!second) return this.#first!.flush();
    await this.#firstDone;
    if (!this.#closed) await second.flush();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#first?.close();
    this.#second?.close();
    this.#first = this.#second = undefined;
    this.#held = undefined;
  }

  #handOver(): void {
    const first = this.#first!;
    this.#second = this.#makeSecond(this.#history, {
      output: (pcm) => {
        if (this.#closed) return;
        if (this.#held) this.#held.push(pcm);
        else this.#callbacks.output(pcm);
      },
      error: (error) => this.#error(error),
    });
    this.#history = [];
    this.#firstDone = first.flush().then(
      () => {
        if (this.#closed) return;
        first.close();
        const held = this.#held ?? [];
        this.#held = undefined;
        for (const pcm of held) this.#callbacks.output(pcm);
      },
      (error: unknown) => this.#error(error),
    );
  }

  #error(error: unknown): void {
    if (this.#closed) return;
    this.close();
    this.#callbacks.error(error);
  }
}
