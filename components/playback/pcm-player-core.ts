import type { PlayerCommand, PlayerEvent, PlayerReport } from './pcm-player-messages.js';
import type { PcmQueue } from './pcm-queue.js';
import type { PcmSource, SincResampler } from './sinc-resampler.js';

export interface PlayerCoreDeps {
  queue: PcmQueue;
  makeResampler(channels: number, inRate: number, outRate: number): SincResampler;
  post(report: PlayerReport): void;
}

/**
 * The pcm-player's render logic, free of the AudioWorklet API so Node can test it: a queue of
 * blocks played back to back, one render quantum at a time, on the audio thread.
 *
 * Why a worklet queue and not `AudioBufferSourceNode.start(when)` per block: with start(when)
 * every join is a float time that the browser rounds (or sub-sample interpolates) on its own, and
 * every block whose rate differs from the context's is resampled alone, with no filter state across
 * the join: exact joins are a property one has to keep re-proving. Here the output is one stream
 * written sample by sample from the queue, so consecutive blocks are gapless by construction, the
 * resampler's state carries across blocks, pause/resume lands on an exact sample, the play
 * position is a frame counter rather than a clock estimate, and rendering happens on the audio
 * thread, which keeps running in a background tab where main-thread timers are throttled.
 *
 * Self-contained at runtime (shipped to the worklet as source text, see PcmQueue).
 */
export class PlayerCore {
  private readonly outRate: number;
  private readonly deps: PlayerCoreDeps;
  private readonly source: PcmSource;
  /** Length of the ~5 ms fade that hides the click of a pause or resume, in frames. */
  private readonly fadeFrames: number;
  private readonly reportEvery: number;
  private readonly outChannels: number;
  private resampler: SincResampler | undefined = undefined;
  private inRate = 0;
  private wantPlay = false;
  private fadingOut = false;
  /** Fade gain in frames: fadeLevel / fadeFrames (integers, so a fade is exactly fadeFrames long). */
  private fadeLevel = 0;
  /** 'playing' was reported since the last play/underrun. */
  private announced = false;
  private starving = false;
  private endMarked = false;
  private playedFrames = 0;
  private epoch = 0;
  private quanta = 0;
  closed = false;

  constructor(outRate: number, outChannels: number, deps: PlayerCoreDeps) {
    this.outRate = outRate;
    this.outChannels = outChannels;
    this.deps = deps;
    this.source = (dest, offset, frames) => deps.queue.read(dest, offset, frames);
    this.fadeFrames = Math.max(1, Math.round(0.005 * outRate));
    this.fadeLevel = this.fadeFrames;
    this.reportEvery = Math.max(1, Math.round((0.02 * outRate) / 128));
  }

  handle(command: PlayerCommand, contextFrame: number): void {
    switch (command.type) {
      case 'enqueue':
        if (this.inRate === 0) {
          this.inRate = command.sampleRate;
          this.resampler =
            command.sampleRate === this.outRate
              ? undefined
              : this.deps.makeResampler(this.outChannels, command.sampleRate, this.outRate);
        }
        this.deps.queue.push(command.channels);
        return;
      case 'end':
        this.endMarked = true;
        return;
      case 'play':
        if (this.fadingOut) {
          this.fadingOut = false; // the fade turns around where it is: nothing skipped
        } else if (!this.wantPlay) {
          // A resume fades in; the very start of a track plays exactly as the file has it.
          this.fadeLevel = this.playedFrames > 0 ? 0 : this.fadeFrames;
          this.announced = false;
          this.starving = false;
        }
        this.wantPlay = true;
        this.report('resumed', contextFrame, false);
        return;
      case 'pause':
        if (this.wantPlay && this.announced && !this.starving && this.fadeLevel > 0) {
          this.fadingOut = true; // 'paused' follows once the fade has run out
        } else {
          this.fadingOut = false;
          this.report('paused', contextFrame, false);
        }
        this.wantPlay = false;
        return;
      case 'stop':
        this.deps.queue.clear();
        this.resampler = undefined;
        this.inRate = 0;
        this.wantPlay = this.fadingOut = this.announced = this.starving = this.endMarked = false;
        this.fadeLevel = this.fadeFrames;
        this.playedFrames = 0;
        this.epoch = command.epoch;
        this.report('stopped', contextFrame, false);
        return;
      case 'close':
        this.closed = true;
        this.deps.queue.clear();
        this.resampler = undefined;
        return;
    }
  }

  /** Fills one render quantum (`output[*]`, all the same length) starting at `contextFrame`. */
  render(output: Float32Array[], contextFrame: number): void {
    const frames = output[0]!.length;
    const endFrame = contextFrame + frames;
    let written = 0;
    if (this.wantPlay || this.fadingOut) {
      // Audio that resumes after an underrun fades in: the gap is a fault, a click on top needless.
      if (this.starving && this.playedFrames > 0 && !this.fadingOut) this.fadeLevel = 0;
      const want = this.fadingOut ? Math.min(frames, this.fadeLevel) : frames;
      written = this.resampler
        ? this.resampler.pull(output, 0, want, this.source, this.endMarked)
        : this.deps.queue.read(output, 0, want);
      this.applyFade(output, written);
      this.playedFrames += written;
      if (written > 0 && this.wantPlay && !this.announced) {
        this.announced = true;
        this.starving = false;
        this.report('playing', endFrame, written === frames);
      }
      if (this.fadingOut && (this.fadeLevel === 0 || written < want)) {
        this.fadingOut = false;
        this.fadeLevel = this.fadeFrames;
        this.report('paused', endFrame, false);
      } else if (written < want && this.wantPlay) {
        if (this.endMarked) {
          this.wantPlay = false;
          this.announced = false;
          this.report('ended', endFrame, false);
        } else if (!this.starving) {
          this.starving = true;
          this.announced = false;
          this.report('underrun', endFrame, false);
        }
      } else if (this.wantPlay && written === frames && ++this.quanta >= this.reportEvery) {
        this.report('position', endFrame, true);
      }
    }
    for (const channel of output) channel.fill(0, written);
  }

  /** Fade-out gains run 1 … 1/N, fade-in 1/N … 1: no sample is zeroed, the timeline stays whole. */
  private applyFade(output: Float32Array[], frames: number): void {
    if (!this.fadingOut && this.fadeLevel === this.fadeFrames) return;
    const full = this.fadeFrames;
    let level = this.fadeLevel;
    for (let i = 0; i < frames; i++) {
      let gain: number;
      if (this.fadingOut) {
        gain = level / full;
        level = Math.max(0, level - 1);
      } else {
        level = Math.min(full, level + 1);
        gain = level / full;
      }
      for (const channel of output) channel[i]! *= gain;
    }
    this.fadeLevel = level;
  }

  private report(event: PlayerEvent, contextFrame: number, flowing: boolean): void {
    this.quanta = 0;
    const queued = this.deps.queue.availableFrames + (this.resampler ? this.resampler.heldFrames : 0);
    const aheadFrames = this.inRate > 0 ? Math.floor((queued * this.outRate) / this.inRate) : 0;
    this.deps.post({
      type: 'report',
      event,
      epoch: this.epoch,
      playedFrames: this.playedFrames,
      contextFrame,
      flowing,
      aheadFrames,
    });
  }
}
