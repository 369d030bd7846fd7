/**
 * A FIFO of planar PCM blocks, read out frame-exactly into a fixed channel layout.
 *
 * Runs inside the AudioWorklet: its source text is shipped to the worklet with
 * `String(PcmQueue)`, so this class must stay self-contained (no imports, no module-level helpers,
 * no `#private` fields or other syntax a bundler might lower into shared helpers, no references to
 * its own class name).
 */
export class PcmQueue {
  private blocks: (Float32Array[] | undefined)[] = [];
  private head = 0;
  /** Frames of `blocks[head]` already read. */
  private headOffset = 0;
  private frames = 0;

  /** Frames queued and not yet read. */
  get availableFrames(): number {
    return this.frames;
  }

  /** Takes ownership of `channels` (all the same length); empty blocks are ignored. */
  push(channels: Float32Array[]): void {
    const length = channels[0]?.length ?? 0;
    if (length === 0) return;
    this.blocks.push(channels);
    this.frames += length;
  }

  /**
   * Copies up to `frames` frames into `dest[*][destOffset…]`, mixing the blocks' channels into
   * `dest.length` channels (Web Audio's "speakers" rules for 1, 2, 4 and 6 channels, discrete
   * otherwise). Read blocks are dropped at once so their memory can go. Returns frames copied.
   */
  read(dest: Float32Array[], destOffset: number, frames: number): number {
    let copied = 0;
    while (copied < frames && this.head < this.blocks.length) {
      const block = this.blocks[this.head] as Float32Array[];
      const length = block[0]!.length;
      const n = Math.min(frames - copied, length - this.headOffset);
      this.mix(block, this.headOffset, dest, destOffset + copied, n);
      copied += n;
      this.headOffset += n;
      if (this.headOffset === length) {
        this.blocks[this.head] = undefined;
        this.head++;
        this.headOffset = 0;
      }
    }
    this.frames -= copied;
    if (this.head > 64 && this.head * 2 > this.blocks.length) {
      this.blocks = this.blocks.slice(this.head);
      this.head = 0;
    }
    return copied;
  }

  /** Drops everything queued. */
  clear(): void {
    this.blocks = [];
    this.head = 0;
    this.headOffset = 0;
    this.frames = 0;
  }

  /** Instance method, not static: the class may be anonymous once bundled (see above). */
  mix(src: Float32Array[], srcOffset: number, dest: Float32Array[], destOffset: number, n: number): void {
    const inCount = src.length;
    const outCount = dest.length;
    const g = Math.SQRT1_2;
    if (outCount === 2 && inCount !== 2 && (inCount === 1 || inCount === 4 || inCount === 6)) {
      const l = dest[0]!;
      const r = dest[1]!;
      if (inCount === 1) {
        const m = src[0]!;
        for (let i = 0; i < n; i++) l[destOffset + i] = r[destOffset + i] = m[srcOffset + i]!;
      } else if (inCount === 4) {
        const [fl, fr, sl, sr] = src as [Float32Array, Float32Array, Float32Array, Float32Array];
        for (let i = 0; i < n; i++) {
          const s = srcOffset + i;
          l[destOffset + i] = 0.5 * (fl[s]! + sl[s]!);
          r[destOffset + i] = 0.5 * (fr[s]! + sr[s]!);
        }
      } else {
        const [fl, fr, c, , sl, sr] = src as Float32Array[];
        for (let i = 0; i < n; i++) {
          const s = srcOffset + i;
          l[destOffset + i] = fl![s]! + g * (c![s]! + sl![s]!);
          r[destOffset + i] = fr![s]! + g * (c![s]! + sr![s]!);
        }
      }
      return;
    }
    if (outCount === 1 && inCount === 2) {
      const [a, b] = src as [Float32Array, Float32Array];
      const o = dest[0]!;
      for (let i = 0; i < n; i++) o[destOffset + i] = 0.5 * (a[srcOffset + i]! + b[srcOffset + i]!);
      return;
    }
    // Discrete: channel k to channel k; a mono source fills every output; missing ones are silent.
    for (let ch = 0; ch < outCount; ch++) {
      const from = inCount === 1 ? src[0] : src[ch];
      const to = dest[ch]!;
      if (from) to.set(from.subarray(srcOffset, srcOffset + n), destOffset);
      else to.fill(0, destOffset, destOffset + n);
    }
  }
}
