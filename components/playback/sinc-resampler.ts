/**
 * Streaming sample-rate converter: a windowed-sinc (Blackman, 32 taps) polyphase filter whose
 * state (the last input samples and the output phase) carries across pulls, so a stream cut into
 * blocks of any size converts exactly as if it were converted in one piece: no click at joins.
 *
 * Output frame n sits at input time n·inRate/outRate, computed from n (no accumulated rounding).
 * For the usual rates the ratio is a small fraction (48000/44100 = 160/147), so the fractional
 * positions repeat with a short period and each gets its own exact filter row; other ratios use
 * 512 rows with linear interpolation between them. The filter is centred, so each output needs
 * 16 input frames ahead of it: a stream that has not ended holds back its last 16 frames until
 * more arrive or `end` is signalled.
 *
 * Runs inside the AudioWorklet (shipped as source text): self-contained, see PcmQueue.
 */
export type PcmSource = (dest: Float32Array[], destOffset: number, frames: number) => number;

export class SincResampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly halfTaps = 16;
  /** Rows in the table: one per fractional position p/phases (p = 0 … phases). */
  private readonly phases: number;
  /** inRate/outRate as the reduced fraction step/phases, when exact rows are used. */
  private readonly step: number;
  private readonly exact: boolean;
  private readonly table: Float32Array;
  private readonly kernel: Float32Array;
  /** Input history per channel; buf[i] is input frame bufStart + i. */
  private readonly buf: Float32Array[];
  private bufStart: number;
  private bufLength: number;
  private outFrames = 0;
  /** Input frame count once the source ended (zeros are read past it). */
  private endFrame = Infinity;

  constructor(channels: number, inRate: number, outRate: number) {
    this.inRate = inRate;
    this.outRate = outRate;
    const taps = 2 * this.halfTaps;
    let a = inRate;
    let b = outRate;
    while (b > 0.5) [a, b] = [b, a % b];
    const divisor = a;
    this.exact = Number.isInteger(inRate) && Number.isInteger(outRate) && outRate / divisor <= 4096;
    this.phases = this.exact ? outRate / divisor : 512;
    this.step = this.exact ? inRate / divisor : 0;
    // Downsampling must also remove what the lower rate cannot hold: scale the cutoff.
    const cutoff = Math.min(1, outRate / inRate) * 0.95;
    this.table = new Float32Array((this.phases + 1) * taps);
    for (let p = 0; p <= this.phases; p++) {
      const frac = p / this.phases;
      let sum = 0;
      for (let k = 0; k < taps; k++) {
        const x = k - this.halfTaps + 1 - frac; // distance of tap k from the output instant
        const t = x / this.halfTaps;
        const window = Math.abs(t) >= 1 ? 0 : 0.42 + 0.5 * Math.cos(Math.PI * t) + 0.08 * Math.cos(2 * Math.PI * t);
        const arg = Math.PI * cutoff * x;
        const sinc = x === 0 ? 1 : Math.sin(arg) / arg;
        const h = cutoff * sinc * window;
        this.table[p * taps + k] = h;
        sum += h;
      }
      for (let k = 0; k < taps; k++) this.table[p * taps + k]! /= sum; // unity gain at DC
    }
    this.kernel = new Float32Array(taps);
    this.buf = [];
    for (let ch = 0; ch < channels; ch++) this.buf.push(new Float32Array(4096 + taps));
    // Frames before the stream are silence: the first outputs see zeros behind them.
    this.bufStart = -this.halfTaps;
    this.bufLength = this.halfTaps;
  }

  /** First input frame at or before output frame n's instant (exact integer arithmetic when exact). */
  private inputFrameOf(n: number): number {
    if (!this.exact) return Math.floor((n * this.inRate) / this.outRate);
    const at = n * this.step;
    return (at - (at % this.phases)) / this.phases;
  }

  /** Input frames taken from the source but not yet fully used by an output. */
  get heldFrames(): number {
    const next = this.inputFrameOf(this.outFrames);
    return Math.max(0, Math.min(this.bufStart + this.bufLength, this.endFrame) - next);
  }

  /**
   * Writes up to `frames` converted frames into `dest[*][destOffset…]`, pulling input from
   * `source`. `ended`: the source will never give more, so the tail is flushed. Returns the
   * frames written: fewer than asked when the source ran dry (or the converted stream is over).
   */
  pull(dest: Float32Array[], destOffset: number, frames: number, source: PcmSource, ended: boolean): number {
    const taps = 2 * this.halfTaps;
    const channels = this.buf.length;
    let written = 0;
    while (written < frames) {
      const n = this.outFrames;
      const i0 = this.inputFrameOf(n);
      if (i0 >= this.endFrame) break; // every real input frame has been covered
      const needEnd = i0 + this.halfTaps + 1; // exclusive
      if (this.bufStart + this.bufLength < needEnd && !this.fill(i0, needEnd, source, ended)) break;
      let weights = this.table;
      let w0: number;
      if (this.exact) {
        w0 = ((n * this.step) % this.phases) * taps; // this output's own exact row
      } else {
        const pos = ((n * this.inRate) / this.outRate - i0) * this.phases;
        const p = Math.floor(pos);
        const a = pos - p;
        const row0 = p * taps;
        const table = this.table;
        weights = this.kernel;
        for (let k = 0; k < taps; k++) weights[k] = table[row0 + k]! + a * (table[row0 + taps + k]! - table[row0 + k]!);
        w0 = 0;
      }
      const first = i0 - this.halfTaps + 1 - this.bufStart;
      if (channels === 2) {
        // Stereo, the usual case: both channels in one pass over the weights.
        const l = this.buf[0]!;
        const r = this.buf[1]!;
        let accL = 0;
        let accR = 0;
        for (let k = 0; k < taps; k++) {
          const w = weights[w0 + k]!;
          accL += l[first + k]! * w;
          accR += r[first + k]! * w;
        }
        dest[0]![destOffset + written] = accL;
        dest[1]![destOffset + written] = accR;
      } else for (let ch = 0; ch < channels; ch++) {
        const b = this.buf[ch]!;
        let acc = 0;
        for (let k = 0; k < taps; k++) acc += b[first + k]! * weights[w0 + k]!;
        dest[ch]![destOffset + written] = acc;
      }
      written++;
      this.outFrames++;
    }
    return written;
  }

  /** Makes input frames up to `needEnd` (exclusive) available; false if the source is dry. */
  private fill(i0: number, needEnd: number, source: PcmSource, ended: boolean): boolean {
    const keepFrom = i0 - this.halfTaps + 1;
    const drop = keepFrom - this.bufStart;
    if (drop > 0) {
      for (const b of this.buf) b.copyWithin(0, drop, this.bufLength);
      this.bufStart += drop;
      this.bufLength -= drop;
    }
    const capacity = this.buf[0]!.length;
    while (this.bufStart + this.bufLength < needEnd) {
      const room = capacity - this.bufLength;
      const got = this.endFrame === Infinity ? source(this.buf, this.bufLength, room) : 0;
      if (got > 0) {
        this.bufLength += got;
        continue;
      }
      if (!ended) return false;
      if (this.endFrame === Infinity) this.endFrame = this.bufStart + this.bufLength;
      const pad = needEnd - (this.bufStart + this.bufLength);
      for (const b of this.buf) b.fill(0, this.bufLength, this.bufLength + pad);
      this.bufLength += pad;
    }
    return true;
  }
}
