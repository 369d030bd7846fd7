import { PlayerError } from '../errors.js';
import type { PcmBlock } from '../pcm.js';
import { countEngine, existingSharedAudioContext, sharedAudioContext } from './audio-context.js';
import { type PlayerCommand, type PlayerReport, parsePlayerReport } from './pcm-player-messages.js';
import { PCM_PLAYER_PROCESSOR, pcmPlayerWorkletSource } from './pcm-player.worklet.js';
import { PlaybackClock } from './playback-clock.js';
import { loadWorkletModule } from './worklet-module.js';

/**
 * Loads the player's worklet module into the page's AudioContext ahead of play(), if the page has
 * one already (no context is created for it: before a gesture that would only be a suspended one
 * and a console warning). The first module of a context costs the main thread ~4 ms (measured in
 * the bench), which a cold play() would otherwise spend before its offer goes out. Loads nothing
 * from the network (the module is a blob).
 */
export function prewarmPlaybackEngine(): void {
  const context = existingSharedAudioContext();
  if (context) loadWorkletModule(context, pcmPlayerWorkletSource).catch(() => undefined); // create() reports it
}

/**
 * Events: 'playing' (samples flow), 'underrun' (queue dry before markEnd), 'ended'; and 'error'
 * (a CustomEvent whose detail is a fatal AUDIO_CONTEXT PlayerError) if the worklet itself fails.
 */
export type PlaybackEngineEventType = 'playing' | 'underrun' | 'ended' | 'error';

/** Volume changes ramp over this long, so they do not click. */
const VOLUME_RAMP_SECONDS = 0.005;

/**
 * Plays a stream of PcmBlocks gaplessly and sample-accurately through an AudioWorklet (see
 * PlayerCore for why a worklet queue). The play position comes from frames counted on the audio
 * thread, so it is the audio that was actually written, not a guess from the clock.
 *
 * Blocks are transferred to the worklet: after `enqueue` the caller's Float32Arrays are detached
 * (views over part of a larger buffer are copied instead, so a shared buffer is never taken,
 * unless the block says it owns its buffers).
 */
export class PlaybackEngine extends EventTarget {
  /** Loads the worklet module into `context` (once per context) and builds the nodes. */
  static async create(context?: BaseAudioContext): Promise<PlaybackEngine> {
    try {
      const target = context ?? sharedAudioContext();
      await loadWorkletModule(target, pcmPlayerWorkletSource);
      return new PlaybackEngine(target);
    } catch (error) {
      // E.g. a Content-Security-Policy without `blob:`, or no Web Audio at all.
      if (error instanceof PlayerError) throw error;
      throw new PlayerError('AUDIO_CONTEXT', `the audio output could not be set up: ${String(error)}`, { fatal: true, cause: error });
    }
  }

  /** Usually the page's shared context; an OfflineAudioContext works too (tests, CPU measurements). */
  readonly context: BaseAudioContext;
  /** This player's last node, connected to the destination; its gain is volume × !muted. */
  readonly output: GainNode;
  readonly #node: AudioWorkletNode;
  readonly #clock = new PlaybackClock();
  /** Bumped by stop(): reports of an earlier generation are stale and ignored. */
  #epoch = 0;
  #paused = true;
  #endMarked = false;
  #destroyed = false;
  #inRate = 0;
  #enqueuedFrames = 0;
  /** Channels of the blocks enqueued (PCM bytes per frame = channels × 4). */
  #channels = 0;
  /** Timeline second of the first enqueued frame. */
  #originSeconds = 0;
  #volume = 1;
  #muted = false;
  #pendingPlays: (() => void)[] = [];

  private constructor(context: BaseAudioContext) {
    super();
    this.context = context;
    this.#node = new AudioWorkletNode(context, PCM_PLAYER_PROCESSOR, {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      // Stereo out: mono is upmixed, 4 and 5.1 are downmixed by the speaker rules (PcmQueue.mix).
      outputChannelCount: [2],
    });
    this.output = new GainNode(context);
    this.#node.connect(this.output);
    this.output.connect(context.destination);
    this.#node.port.onmessage = (event: MessageEvent<unknown>) => this.#onReport(parsePlayerReport(event.data));
    // A processor that threw outputs silence for good: say so rather than play nothing quietly.
    this.#node.onprocessorerror = () => {
      const error = new PlayerError('AUDIO_CONTEXT', 'the audio worklet failed', { fatal: true });
      this.dispatchEvent(new CustomEvent<PlayerError>('error', { detail: error }));
    };
    countEngine(1);
  }

  /** Track-timeline seconds played so far (advances with the audio clock between reports). */
  get currentTime(): number {
    return this.#originSeconds + this.#playedFrames() / this.context.sampleRate;
  }

  /** Seconds enqueued and not yet played. */
  get queuedSeconds(): number {
    if (this.#inRate === 0) return 0;
    return Math.max(0, this.#enqueuedFrames / this.#inRate - this.#playedFrames() / this.context.sampleRate);
  }

  /** Bytes of PCM enqueued and not yet played (what the audio thread still holds). */
  get queuedBytes(): number {
    return Math.round(this.queuedSeconds * this.#inRate) * this.#channels * Float32Array.BYTES_PER_ELEMENT;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get volume(): number {
    return this.#volume;
  }

  set volume(value: number) {
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new RangeError(`PlaybackEngine: volume must be within 0..1, got ${value}`);
    }
    this.#volume = value;
    this.#applyGain();
  }

  get muted(): boolean {
    return this.#muted;
  }

  set muted(value: boolean) {
    this.#muted = value;
    this.#applyGain();
  }

  /** Appends the next block of the stream (contiguous with the previous one). */
  enqueue(block: PcmBlock): void {
    this.#assertAlive();
    if (this.#endMarked) throw new Error('PlaybackEngine: enqueue() after markEnd() (call stop() to start over)');
    const { channels, sampleRate } = block;
    const frames = channels[0]?.length ?? 0;
    if (channels.length === 0 || channels.some((channel) => channel.length !== frames)) {
      throw new TypeError('PlaybackEngine: a block needs at least one channel, all of the same length');
    }
    if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
      throw new RangeError(`PlaybackEngine: invalid sample rate ${sampleRate}`);
    }
    if (this.#inRate !== 0 && sampleRate !== this.#inRate) {
      throw new Error(`PlaybackEngine: sample rate changed mid-stream (${this.#inRate} → ${sampleRate}); stop() first`);
    }
    if (frames === 0) return;
    if (this.#inRate === 0) {
      this.#inRate = sampleRate;
      this.#originSeconds = block.startFrame / sampleRate;
    }
    this.#enqueuedFrames += frames;
    this.#channels = channels.length;
    const { sent, transfer } = transferable(channels, block.ownsBuffers === true);
    this.#post({ type: 'enqueue', channels: sent, sampleRate }, transfer);
  }

  /** No more blocks: 'ended' fires once the last queued sample has played. */
  markEnd(): void {
    if (this.#destroyed || this.#endMarked) return;
    this.#endMarked = true;
    this.#post({ type: 'end' });
  }

  /**
   * Starts or resumes at currentTime. Resolves once the audio thread has taken the request (at
   * once if the context is not running yet: sound starts when it is; 'playing' tells when).
   */
  play(): Promise<void> {
    if (this.#destroyed) return Promise.reject(new Error('PlaybackEngine: play() after destroy()'));
    this.#paused = false;
    this.#post({ type: 'play' });
    if (this.context.state !== 'running') {
      // Allowed only after a gesture; harmless otherwise. (An offline context starts on its own.)
      if (this.context instanceof AudioContext) this.context.resume().catch(() => undefined);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#pendingPlays.push(resolve));
  }

  /** Sample-accurate pause: output stops (after a ~5 ms fade) and the queue is kept. */
  pause(): void {
    if (this.#destroyed || this.#paused) return;
    this.#paused = true;
    this.#clock.freeze(this.#contextFrame());
    this.#post({ type: 'pause' });
  }

  /** Drops the queue; the position goes back to 0 and a new stream may be enqueued. */
  stop(): void {
    if (this.#destroyed) return;
    this.#epoch++;
    this.#post({ type: 'stop', epoch: this.#epoch });
    this.#paused = true;
    this.#endMarked = false;
    this.#inRate = 0;
    this.#enqueuedFrames = 0;
    this.#channels = 0;
    this.#originSeconds = 0;
    this.#clock.reset();
    this.#settlePlays();
  }

  /** Disconnects the nodes, closes the worklet's port and drops every buffer. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#post({ type: 'close' });
    this.#destroyed = true;
    this.#node.port.onmessage = null;
    this.#node.port.close();
    this.#node.disconnect();
    this.output.disconnect();
    this.#clock.reset();
    this.#settlePlays();
    countEngine(-1);
  }

  #onReport(report: PlayerReport): void {
    if (report.epoch !== this.#epoch || this.#destroyed) return;
    this.#clock.update(report);
    switch (report.event) {
      case 'resumed':
        this.#settlePlays();
        return;
      case 'ended':
        this.#paused = true;
        this.dispatchEvent(new Event('ended'));
        return;
      case 'playing':
      case 'underrun':
        // Sent before a pause() reached the audio thread: the caller has moved on.
        if (!this.#paused) this.dispatchEvent(new Event(report.event));
        return;
      default:
        return;
    }
  }

  #playedFrames(): number {
    return this.#clock.framesAt(this.#contextFrame());
  }

  #contextFrame(): number {
    return Math.round(this.context.currentTime * this.context.sampleRate);
  }

  #applyGain(): void {
    const gain = this.output.gain;
    const now = this.context.currentTime;
    gain.cancelScheduledValues(now);
    gain.setValueAtTime(gain.value, now);
    gain.linearRampToValueAtTime(this.#muted ? 0 : this.#volume, now + VOLUME_RAMP_SECONDS);
  }

  #post(command: PlayerCommand, transfer: Transferable[] = []): void {
    if (!this.#destroyed) this.#node.port.postMessage(command, transfer);
  }

  #settlePlays(): void {
    const pending = this.#pendingPlays;
    this.#pendingPlays = [];
    for (const resolve of pending) resolve();
  }

  #assertAlive(): void {
    if (this.#destroyed) throw new Error('PlaybackEngine: used after destroy()');
  }
}

/**
 * Which channel buffers can be handed over without copying: a Float32Array that spans its whole
 * (non-shared) ArrayBuffer, or any view of one when the block owns its buffers; each buffer once.
 * Anything else is copied, so the caller's other data stays put.
 */
function transferable(channels: Float32Array[], owned: boolean): { sent: Float32Array[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const sent = channels.map((channel) => {
    const buffer = channel.buffer;
    const whole = buffer instanceof ArrayBuffer && (owned || (channel.byteOffset === 0 && channel.byteLength === buffer.byteLength));
    if (whole && !transfer.includes(buffer)) {
      transfer.push(buffer);
      return channel;
    }
    return channel.slice();
  });
  return { sent, transfer };
}
