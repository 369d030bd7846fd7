/** What the worklet last said about the play position (see PlayerReport). */
export interface PositionSample {
  playedFrames: number;
  contextFrame: number;
  flowing: boolean;
  aheadFrames: number;
}

/**
 * The play position between the worklet's reports: the last reported frame count, advanced with
 * the context clock while samples flow, capped at what the worklet had queued (so it never runs
 * ahead of what can have been output) and never moving backwards until reset.
 */
export class PlaybackClock {
  #sample: PositionSample | undefined;
  #shown = 0;

  update(sample: PositionSample): void {
    this.#sample = sample;
  }

  /** Stop advancing from `contextFrame` on (pause asked; the worklet's final word follows). */
  freeze(contextFrame: number): void {
    const frames = this.framesAt(contextFrame);
    this.#sample = { playedFrames: frames, contextFrame, flowing: false, aheadFrames: 0 };
  }

  reset(): void {
    this.#sample = undefined;
    this.#shown = 0;
  }

  /** Played frames at context frame `contextFrame`. */
  framesAt(contextFrame: number): number {
    const s = this.#sample;
    if (s) {
      const advance = s.flowing ? Math.min(Math.max(0, contextFrame - s.contextFrame), s.aheadFrames) : 0;
      this.#shown = Math.max(this.#shown, s.playedFrames + advance);
    }
    return this.#shown;
  }
}
