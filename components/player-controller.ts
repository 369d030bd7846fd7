/**
 * The brain of `<rtc-audio-player>`: a Lit ReactiveController that owns one stream (a
 * {@link PlayerPipeline}), moves the state machine, and decides all recovery. The element only
 * renders what this exposes and forwards the user's requests.
 *
 * Recovery in one place:
 * - A connection that drops mid-stream (lost, stalled, retryable server error) is replaced in the
 *   background with backoff; the new one resumes at the first byte not yet received, the same
 *   decoder carries on, and playback continues from the buffer. `waiting` shows only if the
 *   buffer runs dry. `online` and a page becoming visible cut a pending backoff short.
 * - 4xx answers (but 429/503), format, decode and protocol errors are not retried.
 * - When `maxRetries` reconnects in a row failed, the state becomes `error` (RETRIES_EXHAUSTED,
 *   `cause` = the last error); `retry()` continues from the position.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { audioContextNeedsGesture } from './playback/audio-context.js';
import { prewarmMp3Decoder } from './decoder/stream-decoder.js';
import { leaseSparePeer, prewarmCertificate } from './connection/spare-peer.js';
import { prewarmPlaybackEngine } from './playback/playback-engine.js';
import type { ConnectionMark } from './connection/stream-connection.js';
import { PlayerError } from './errors.js';
import { errorEvent, mediaEvent, progressEvent, StateChangeEvent, type MediaEventName } from './events.js';
import { DEFAULT_FLOW_WINDOW, PlayerPipeline, type ChunkObserver, type FlowWindow } from './player-pipeline.js';
import { isActive, transition, type PlayerEvent, type PlayerState } from './player-state.js';
import { recoveryFor } from './recovery.js';
import { RetrySchedule, watchNetworkReturn } from './retry-schedule.js';
import { canStart, startProgress } from './start-rule.js';

export type Preload = 'none' | 'metadata' | 'auto';

export interface PlayerConfig {
  src: string;
  /** Signaling base URL; '' = same origin. */
  server: string;
  bufferSeconds: number;
  maxRetries: number;
  preload: Preload;
}

export type TimingMark = ConnectionMark | 'playRequested' | 'startSent' | 'firstDecoded' | 'playing';
/** `performance.now()` per mark of the current load; connection marks are those of its first connection. */
export type PlayerTiming = Readonly<Partial<Record<TimingMark, number>>>;

export interface PlayerStats {
  /** Bytes of the file handed to the decoder (across reconnections). */
  bytesReceived: number;
  /** Connections that replaced a dropped one and delivered data. */
  reconnects: number;
  /** Garbage runs the decoder skipped. */
  discontinuities: number;
  /** State-machine moves the table refused (a bug if ever non-zero). */
  illegalTransitions: number;
}

export interface PlayerMemory {
  /** Received bytes of the file not yet decoded (bounded by flow control). */
  compressedBytes: number;
  /** Decoded PCM not yet played, in bytes (bounded by the decode horizon). */
  pcmBytes: number;
}

export type ControllerHost = ReactiveControllerHost & EventTarget & { readonly isConnected: boolean };

/** How often position-driven work runs (timeupdate, decode horizon, start rule): ~4 Hz. */
const TICK_MS = 250;
/** Decoded seconds the engine must hold before it starts (at most what was received). */
const PCM_START_SECONDS = 0.15;
/**
 * preload="metadata" receives this much of the file with the metadata (the protocol's preview)
 * and decodes it before play(), so play() starts from PCM already in the engine, as a media
 * element's preload="metadata" does from the bytes it fetched (Chromium 156 here: ~660 KiB for
 * the bench's MP3). 64 KiB is one chunk: ~4 s of a 128 kbit/s MP3, 0.4 s of CD-quality WAV.
 */
export const PRELOAD_METADATA_BYTES = 64 * 1024;
/**
 * Until the engine plays, only this much is decoded: enough to start on, without every idle
 * player on a page holding seconds of PCM, and without a decode burst on the main thread while
 * the engine starts (it delayed the `playing` event by 20–40 ms). `playing` moves the horizon on.
 */
const PRELOAD_DECODE_SECONDS = 1;
/**
 * A cold load (play() or preload="auto" from nothing) also asks for a preview. On a preview
 * connection (cold, or preload="metadata" at play()) `start` goes once the engine plays, or once
 * the preview is all decoded and not enough to start on, or after this long at the latest.
 * Why: the server's start-up burst (1 MiB as fast as SCTP goes) costs Chromium ~80 ms of CPU per
 * MB; arriving together with the first chunk it delayed the first decoded block from ~15 ms to
 * 50–165 ms on 2 cores, and arriving during the engine start, the `playing` event by 20–40 ms.
 * The preview (~4 s of MP3) is plenty to start on; the burst follows.
 */
const COLD_PREVIEW_START_MS = 250;

export class PlayerController implements ReactiveController {
  /** An unused pre-connection (`preload="metadata"`) is closed after this long; play() reconnects. */
  static idlePreconnectMs = 60_000;
  /** Seconds of PCM decoded ahead of the play position (read when a stream starts). */
  static horizonSeconds = 30;
  /** Compressed audio the server may send beyond what was decoded (flow-control window; read when a stream starts). */
  static flowWindow: Readonly<FlowWindow> = DEFAULT_FLOW_WINDOW;

  readonly #host: ControllerHost;
  readonly #config: () => PlayerConfig;
  readonly #clientId = crypto.randomUUID();
  #state: PlayerState = 'idle';
  #error: PlayerError | null = null;
  #pipeline: PlayerPipeline | undefined;
  #wantPlay = false;
  readonly #retries: RetrySchedule;
  #unwatchNetwork: (() => void) | undefined;
  #tickTimer: ReturnType<typeof setInterval> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** A preview connection (cold, or a pre-connection at play()) holds `start` back (see COLD_PREVIEW_START_MS). */
  #previewStartTimer: ReturnType<typeof setTimeout> | undefined;
  #awaitingStart = false;
  /** The pre-connection being opened, so a play() meanwhile joins it instead of starting over. */
  #preconnecting: Promise<unknown> | undefined;
  #visibility: IntersectionObserver | undefined;
  #lastTime = 0;
  #lastProgressBytes = 0;
  #duration = Number.NaN;
  #endedBuffered = 0;
  #startReached = false;
  /** bufferProgress (percent) when #checkStart last asked for a render. */
  #shownProgress = -1;
  #volume = 1;
  #muted = false;
  #timing: Partial<Record<TimingMark, number>> = {};
  #stats: PlayerStats = { bytesReceived: 0, reconnects: 0, discontinuities: 0, illegalTransitions: 0 };
  #reconnecting = false;
  /**
   * The connection ended (e.g. the server's IDLE_TIMEOUT of a long flow-control hold) while the
   * pipeline held plenty: reconnect when it asks for data (its `demand`), not now.
   */
  #awaitingDemand = false;
  #playWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #needsGesture = false;
  /** Releases this player's claim on the page's spare peer (preload="none" only). */
  #releaseSpare: (() => void) | undefined;
  /** Test hook: sees every byte handed to the decoder, in order. Unset in production. */
  chunkObserver: ChunkObserver | undefined;
  /** Test hook: gets each new playback engine's output node before its first sample. Unset in production. */
  outputObserver: ((output: AudioNode) => void) | undefined;

  constructor(host: ControllerHost, config: () => PlayerConfig) {
    this.#host = host;
    this.#config = config;
    this.#retries = new RetrySchedule(() => this.#config().maxRetries);
    host.addController(this);
  }

  // ------------------------------------------------------------------------------------------
  // Read side (the element renders these)

  get state(): PlayerState {
    return this.#state;
  }
  get error(): PlayerError | null {
    return this.#error;
  }
  /** Like HTMLMediaElement.paused: false from play() until pause()/stop()/end/error. */
  get paused(): boolean {
    return !this.#wantPlay;
  }
  get currentTime(): number {
    if (this.#pipeline?.engine) this.#lastTime = Math.max(this.#lastTime, this.#pipeline.currentTime);
    return this.#lastTime;
  }
  get duration(): number {
    return this.#duration;
  }
  /** Timeline end (seconds) of the audio received so far. */
  get bufferedSeconds(): number {
    return this.#pipeline?.receivedSeconds ?? (this.#state === 'ended' ? this.#endedBuffered : 0);
  }
  /** 0..1 progress toward the start threshold (1 once playback may start). */
  get bufferProgress(): number {
    if (this.#startReached) return 1;
    const pipeline = this.#pipeline;
    if (!pipeline) return this.#state === 'ended' ? 1 : 0;
    return startProgress(pipeline.receivedSeconds - this.currentTime, this.#config().bufferSeconds, pipeline.complete);
  }
  get timing(): PlayerTiming {
    return Object.freeze({ ...this.#pipeline?.connectionTiming, ...this.#timing });
  }
  get stats(): Readonly<PlayerStats> {
    return Object.freeze({ ...this.#stats });
  }
  /** Audio held by the player right now: compressed bytes not yet decoded, PCM not yet played. */
  get memory(): Readonly<PlayerMemory> {
    const pipeline = this.#pipeline;
    return Object.freeze({ compressedBytes: pipeline?.heldCompressedBytes ?? 0, pcmBytes: pipeline?.heldPcmBytes ?? 0 });
  }
  /** The shared AudioContext waits for a user gesture (autoplay policy). */
  get needsGesture(): boolean {
    return this.#needsGesture;
  }
  /** A reconnect is in progress in the background (the stream dropped and is being resumed). */
  get reconnecting(): boolean {
    return this.#reconnecting;
  }
  get volume(): number {
    return this.#volume;
  }
  set volume(value: number) {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`volume must be in [0, 1], got ${value}`);
    if (value === this.#volume) return;
    this.#volume = value;
    if (this.#pipeline) this.#pipeline.volume = value;
    this.#emit('volumechange');
  }
  get muted(): boolean {
    return this.#muted;
  }
  set muted(value: boolean) {
    if (value === this.#muted) return;
    this.#muted = value;
    if (this.#pipeline) this.#pipeline.muted = value;
    this.#emit('volumechange');
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  hostConnected(): void {
    // A pending reconnect runs at once when the network or the page comes back.
    this.#unwatchNetwork ??= watchNetworkReturn(() => this.#retries.wake());
    // The MP3 decoder's worker takes ~100 ms to start: start the page's one now, not at play().
    if (this.#config().src) prewarmMp3Decoder();
    this.#prewarmPeer();
    this.#observeVisibility();
  }

  hostDisconnected(): void {
    // A removed element holds nothing: no peer, no timers, no audio nodes.
    this.#unwatchNetwork?.();
    this.#unwatchNetwork = undefined;
    this.#visibility?.disconnect();
    this.#visibility = undefined;
    this.#releaseSpare?.();
    this.#releaseSpare = undefined;
    this.#teardown(new PlayerError('ABORTED', 'the element was removed from the document'));
    this.#lastTime = 0;
    if (this.#state !== 'idle') this.#move('reset');
  }

  /** src or server changed: drop the old stream, start over from idle. */
  sourceChanged(): void {
    if (this.#config().src) prewarmMp3Decoder();
    const hadStream = this.#pipeline !== undefined || this.#state !== 'idle';
    this.#teardown(new PlayerError('ABORTED', 'a new source was set'));
    this.#lastTime = 0;
    this.#error = null;
    this.#timing = {};
    this.#stats = { bytesReceived: 0, reconnects: 0, discontinuities: 0, illegalTransitions: this.#stats.illegalTransitions };
    this.#lastProgressBytes = 0;
    this.#setDuration(Number.NaN);
    if (this.#state !== 'idle') this.#move('reset');
    if (hadStream) this.#emit('emptied');
    if (this.#host.isConnected) {
      this.#visibility?.disconnect();
      this.#visibility = undefined;
      this.#prewarmPeer();
      this.#observeVisibility();
    }
  }

  /** Releases everything; the controller can be used again (play() starts over). */
  destroy(): void {
    this.hostDisconnected();
  }

  // ------------------------------------------------------------------------------------------
  // Requests (from the element)

  play(): Promise<void> {
    const config = this.#config();
    if (!config.src) return Promise.reject(new DOMException('no src to play', 'NotSupportedError'));
    const waiter = new Promise<void>((resolve, reject) => this.#playWaiters.push({ resolve, reject }));
    if (this.#state === 'playing') {
      this.#settlePlay();
      return waiter;
    }
    if (!this.#wantPlay) {
      this.#wantPlay = true;
      this.#emit('play');
    }
    this.#checkGesture();
    switch (this.#state) {
      case 'idle':
      case 'stopped':
      case 'ended':
      case 'error':
        this.#load();
        break;
      case 'ready':
      case 'paused':
        this.#timing.playRequested ??= performance.now();
        this.#startEngine();
        break;
      case 'waiting':
      case 'connecting':
      case 'buffering':
        break; // starts by itself once buffered (see #checkStart)
    }
    return waiter;
  }

  pause(): void {
    if (!this.#wantPlay) return;
    this.#wantPlay = false;
    this.#rejectPlay(new DOMException('play() was interrupted by pause()', 'AbortError'));
    this.#pipeline?.engine?.pause();
    if (this.#state === 'playing' || this.#state === 'waiting') this.#move('pause');
    this.#emit('pause');
    this.#emit('timeupdate');
  }

  stop(): void {
    const wasPlaying = this.#wantPlay;
    this.#teardown(new PlayerError('ABORTED', 'stopped'));
    this.#lastTime = 0;
    if (this.#state === 'idle' || this.#state === 'stopped') return;
    this.#move('stop');
    if (wasPlaying) this.#emit('pause');
    this.#emit('timeupdate');
  }

  /**
   * After `error`: reconnect and continue from the position (from the start after a format,
   * decode or protocol error, whose stream cannot continue). Elsewhere the same as play().
   */
  retry(): Promise<void> {
    return this.play();
  }

  // ------------------------------------------------------------------------------------------
  // Loading

  #newPipeline(): PlayerPipeline {
    const config = this.#config();
    const pipeline = new PlayerPipeline(
      {
        server: config.server,
        src: config.src,
        clientId: this.#clientId,
        horizonSeconds: PlayerController.horizonSeconds,
        initialHorizonSeconds: PRELOAD_DECODE_SECONDS,
        // The window must hold the start buffer: with `buffer-seconds` above it, a slow stream
        // (the arrival rule cannot fire) would wait forever for audio the window never lets in.
        flowWindow: { ...PlayerController.flowWindow, seconds: Math.max(PlayerController.flowWindow.seconds, config.bufferSeconds + 1) },
      },
      {
        metadata: (message) => {
          if (message.duration !== undefined && Number.isNaN(this.#duration)) this.#setDuration(message.duration);
        },
        demand: () => {
          if (this.#pipeline !== pipeline || !this.#awaitingDemand) return;
          this.#awaitingDemand = false;
          if (!pipeline.complete && !pipeline.hasConnection) this.#connect(pipeline, false);
        },
        bytes: (count) => this.#onBytes(pipeline, count),
        pcm: () => {
          this.#timing.firstDecoded ??= performance.now();
          this.#checkStart();
        },
        info: (info) => {
          if (info.duration !== undefined) this.#setDuration(info.duration);
        },
        complete: () => {
          this.#retries.cancel();
          // Formats without a length header (ADTS, say): the end of the stream tells it exactly.
          if (Number.isNaN(this.#duration) && pipeline.decodedSeconds > 0) this.#setDuration(pipeline.decodedSeconds);
          this.#checkStart();
        },
        connectionError: (error) => this.#onConnectionError(pipeline, error),
        fatal: (error) => this.#fail(error),
        discontinuity: () => {
          this.#stats.discontinuities += 1;
        },
        engine: (event) => this.#onEngine(pipeline, event),
      },
    );
    pipeline.volume = this.#volume;
    pipeline.muted = this.#muted;
    pipeline.chunkObserver = this.chunkObserver;
    pipeline.outputObserver = this.outputObserver;
    return pipeline;
  }

  /** play() from idle/stopped/ended/error: use the pre-connection, or continue, or start fresh. */
  #load(): void {
    const from = this.#state;
    if (from === 'stopped' || from === 'ended' || (from === 'error' && this.#pipelineUnusable())) {
      this.#release();
      this.#lastTime = 0;
    }
    this.#error = null;
    this.#startReached = false;
    // A pre-connection's preview was decoded before play(): its firstDecoded is this load's.
    const preDecoded = from === 'idle' && this.#pipeline !== undefined ? this.#timing.firstDecoded : undefined;
    this.#timing = this.#wantPlay ? { playRequested: performance.now() } : {};
    if (preDecoded !== undefined) this.#timing.firstDecoded = preDecoded;
    this.#retries.succeeded();
    this.#move('connect');
    this.#clearIdleTimer();
    const pipeline = (this.#pipeline ??= this.#newPipeline());
    this.#startTick();
    if (pipeline.connected && pipeline.connectionState === 'open') {
      // preload="metadata": start from the preview; one start message on the open channel.
      this.#streamFromPreview(pipeline);
      return;
    }
    if (pipeline.connected || pipeline.complete) {
      // preload="auto" stream already flowing, or everything already here.
      this.#move('stream');
      this.#checkStart();
      return;
    }
    const opening = this.#preconnecting;
    if (opening) {
      // play() while the pre-connection is still opening: finish it rather than start over.
      opening.then(
        () => {
          if (this.#pipeline !== pipeline || this.#state !== 'connecting') return;
          if (pipeline.complete) {
            // The preview was the whole file.
            this.#move('stream');
            this.#checkStart();
            return;
          }
          if (pipeline.connectionState !== 'open') return this.#connect(pipeline, false);
          this.#streamFromPreview(pipeline);
        },
        () => {
          if (this.#pipeline === pipeline && this.#state === 'connecting') this.#connect(pipeline, false);
        },
      );
      return;
    }
    this.#connect(pipeline, false);
  }

  #pipelineUnusable(): boolean {
    const code = this.#error?.code;
    return !this.#pipeline || code === 'DECODE_FAILED' || code === 'UNSUPPORTED_FORMAT' || code === 'PROTOCOL';
  }

  #connect(pipeline: PlayerPipeline, deferStart: boolean): void {
    const resuming = pipeline.nextByte > 0;
    this.#reconnecting = resuming;
    // A fresh stream holds back the burst behind a preview (COLD_PREVIEW_START_MS); a resume
    // wants its bytes at once (the buffer may be running down).
    const preview = !deferStart && !resuming;
    clearTimeout(this.#previewStartTimer);
    this.#awaitingStart = false;
    pipeline.connect(deferStart || preview, preview ? PRELOAD_METADATA_BYTES : 0).then(
      () => {
        if (this.#pipeline !== pipeline) return;
        this.#reconnecting = false;
        if (resuming) this.#stats.reconnects += 1;
        if (this.#state === 'connecting') this.#move('stream');
        if (preview) this.#holdStart(pipeline);
        this.#checkStart();
        this.#host.requestUpdate();
      },
      (error: unknown) => {
        if (this.#pipeline !== pipeline) return;
        this.#onConnectionError(pipeline, error instanceof PlayerError ? error : new PlayerError('CONNECTION_FAILED', String(error), { cause: error }));
      },
    );
  }

  #onConnectionError(pipeline: PlayerPipeline, error: PlayerError): void {
    if (this.#pipeline !== pipeline || pipeline.complete) return;
    const recovery = recoveryFor(error);
    if (recovery === 'ignore') return;
    if (this.#state === 'idle') {
      // A pre-connection (preload="metadata") went away, e.g. the server's idle timeout: nobody
      // is listening, so hold nothing; play() connects again.
      pipeline.closeConnection();
      if (recovery === 'fail') this.#fail(error);
      return;
    }
    if (recovery === 'fail') {
      this.#fail(error);
      return;
    }
    if (pipeline.saturated && this.#state !== 'connecting') {
      // Nothing is needed yet: a new connection would only be held again (or, after a long
      // hold's IDLE_TIMEOUT, hold a server slot for nothing). The pipeline's demand reconnects.
      this.#awaitingDemand = true;
      this.#reconnecting = false;
      this.#host.requestUpdate();
      return;
    }
    const delay = this.#retries.schedule(() => {
      if (this.#pipeline === pipeline && !pipeline.complete) this.#connect(pipeline, false);
    }, error.retryAfterMs ?? 0);
    if (delay === undefined) {
      const attempts = this.#retries.attempt;
      this.#fail(new PlayerError('RETRIES_EXHAUSTED', `gave up after ${attempts} ${attempts === 1 ? 'retry' : 'retries'}: ${error.message}`, {
        cause: error,
        fatal: true,
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(error.detail === undefined ? {} : { detail: error.detail }),
      }));
      return;
    }
    this.#reconnecting = true;
    this.#host.requestUpdate();
  }

  /** play() on an open pre-connection: play from its preview, then hold `start` back (#holdStart). */
  #streamFromPreview(pipeline: PlayerPipeline): void {
    this.#move('stream');
    this.#holdStart(pipeline);
    this.#checkStart();
  }

  /** A preview connection waits for `start` (see COLD_PREVIEW_START_MS); without a preview it goes now. */
  #holdStart(pipeline: PlayerPipeline): void {
    clearTimeout(this.#previewStartTimer);
    this.#awaitingStart = true;
    if (!pipeline.metadata?.preloadBytes) return this.#sendStart(pipeline);
    this.#previewStartTimer = setTimeout(() => this.#sendStart(pipeline), COLD_PREVIEW_START_MS);
  }

  /** Sends a preview connection's held-back `start` (once). */
  #sendStart(pipeline: PlayerPipeline): void {
    clearTimeout(this.#previewStartTimer);
    this.#previewStartTimer = undefined;
    if (!this.#awaitingStart || this.#pipeline !== pipeline) return;
    this.#awaitingStart = false;
    if (pipeline.connectionState !== 'open') return; // complete (the preview was the file), or gone
    pipeline.start();
    this.#timing.startSent = performance.now();
  }

  #onBytes(pipeline: PlayerPipeline, count: number): void {
    this.#stats.bytesReceived += count;
    // Progress made on this connection: the retry budget is for failures in a row.
    this.#retries.succeeded();
    if (this.#pipeline === pipeline) this.#checkStart();
  }

  // ------------------------------------------------------------------------------------------
  // Pre-connection (preload)

  #observeVisibility(): void {
    const { preload, src } = this.#config();
    if (preload === 'none' || !src || this.#state !== 'idle') return;
    if (typeof IntersectionObserver === 'undefined' || !(this.#host instanceof Element)) {
      this.#preconnect();
      return;
    }
    this.#visibility = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      this.#visibility?.disconnect();
      this.#visibility = undefined;
      this.#preconnect();
    });
    this.#visibility.observe(this.#host);
  }

  /**
   * Connection set-up that sends nothing, done before play(): the page's DTLS certificate for
   * every player, and for `preload="none"` a spare local-only peer with its offer made, so a cold
   * play() starts with setLocalDescription + POST (saves the 5–25 ms of createOffer), and the
   * playback worklet module if the page has an AudioContext already. preload "metadata"/"auto"
   * connect before play() anyway and only use the certificate.
   */
  #prewarmPeer(): void {
    const { preload, src } = this.#config();
    if (!src) return;
    prewarmCertificate();
    if (preload !== 'none') return;
    this.#releaseSpare ??= leaseSparePeer();
    prewarmPlaybackEngine();
  }

  #preconnect(): void {
    const { preload, src } = this.#config();
    if (preload === 'none' || !src || this.#state !== 'idle' || this.#pipeline) return;
    if (preload === 'auto') {
      // Fill the start buffer: a real load, only without play intent.
      this.#load();
      return;
    }
    const pipeline = (this.#pipeline = this.#newPipeline());
    const opening = pipeline.connect(true, PRELOAD_METADATA_BYTES);
    this.#preconnecting = opening;
    const settled = () => {
      if (this.#preconnecting === opening) this.#preconnecting = undefined;
    };
    opening.then(settled, settled);
    opening.then(
      () => {
        if (this.#pipeline !== pipeline || this.#state !== 'idle') return;
        this.#idleTimer = setTimeout(() => {
          // Do not hold a peer nobody uses; play() reconnects.
          if (this.#pipeline === pipeline && this.#state === 'idle') pipeline.closeConnection();
        }, PlayerController.idlePreconnectMs);
        this.#host.requestUpdate();
      },
      (error: unknown) => {
        if (this.#pipeline !== pipeline || this.#state !== 'idle') return;
        const playerError = error instanceof PlayerError ? error : new PlayerError('CONNECTION_FAILED', String(error));
        // A pre-connection that cannot work (404, bad src) is reported, like a media element's
        // preload error; a transient failure is left for play() to retry.
        if (recoveryFor(playerError) === 'fail') this.#fail(playerError);
      },
    );
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Starting and playing

  #checkStart(): void {
    const pipeline = this.#pipeline;
    if (!pipeline || this.#state !== 'buffering') return;
    const position = this.currentTime;
    const ahead = pipeline.receivedSeconds - position;
    const remaining = Number.isNaN(this.#duration) ? undefined : Math.max(0, this.#duration - pipeline.receivedSeconds);
    const enough = canStart({
      aheadSeconds: ahead,
      complete: pipeline.complete,
      bufferSeconds: this.#config().bufferSeconds,
      arrivalRate: pipeline.arrivalRate,
      remainingSeconds: remaining,
    });
    // Received is not yet playable: wait until the decoder has put a little PCM in front of the
    // engine too (on a busy CPU decoding lags arrival; starting on nothing would underrun at once).
    const decodedNeeded = Math.min(PCM_START_SECONDS, Math.max(0, ahead - 0.1));
    const playable = enough && pipeline.queuedSeconds > 0 && pipeline.queuedSeconds >= decodedNeeded;
    // A preview's burst goes once the engine plays (#onEngine); now if there is no engine start
    // to keep it from (preload="auto" without play()), or if the preview is all decoded and still
    // not enough to start on (a format with little audio per byte).
    if (
      this.#awaitingStart &&
      (playable
        ? !this.#wantPlay
        : pipeline.previewReceived && pipeline.decodedSeconds > 0 && pipeline.decodedSeconds >= pipeline.receivedSeconds)
    ) {
      this.#sendStart(pipeline);
    }
    if (!playable) {
      // Re-render only when the buffering bar's percent moved. This runs on every chunk and on
      // every decoded block (~40 per second of audio): a render each time took 5–50 ms of main
      // thread during the start-up burst, time the first decoded blocks were waiting for.
      const percent = Math.round(this.bufferProgress * 100);
      if (percent !== this.#shownProgress) {
        this.#shownProgress = percent;
        this.#host.requestUpdate();
      }
      return;
    }
    this.#startReached = true;
    this.#move('buffered');
    if (this.#wantPlay) this.#startEngine();
  }

  #startEngine(): void {
    const pipeline = this.#pipeline;
    if (!pipeline) return;
    this.#startTick();
    pipeline.engineReady().then(
      (engine) => {
        if (this.#pipeline !== pipeline || !this.#wantPlay) return;
        return engine.play().catch((error: unknown) => {
          if (this.#pipeline === pipeline) this.#fail(new PlayerError('AUDIO_CONTEXT', 'audio output could not start', { cause: error, fatal: true }));
        });
      },
      (error: unknown) => {
        if (this.#pipeline === pipeline && !(error instanceof PlayerError && error.code === 'ABORTED')) {
          this.#fail(new PlayerError('AUDIO_CONTEXT', 'audio output could not be created', { cause: error, fatal: true }));
        }
      },
    );
    this.#checkGesture();
  }

  #onEngine(pipeline: PlayerPipeline, event: 'playing' | 'underrun' | 'ended'): void {
    if (this.#pipeline !== pipeline) return;
    switch (event) {
      case 'playing':
        if (this.#state !== 'ready' && this.#state !== 'paused' && this.#state !== 'waiting') return;
        this.#timing.playing ??= performance.now();
        // Sound is flowing: now the stream's burst and the decode ahead may have the CPU.
        this.#sendStart(pipeline);
        pipeline.setHorizon(pipeline.currentTime + PlayerController.horizonSeconds);
        this.#move('playing');
        this.#needsGesture = false;
        this.#settlePlay();
        this.#emit('playing');
        break;
      case 'underrun':
        if (this.#state !== 'playing') return;
        this.#move('underrun');
        this.#emit('waiting');
        break;
      case 'ended':
        if (this.#state !== 'playing' && this.#state !== 'waiting' && this.#state !== 'paused') return;
        this.#lastTime = Math.max(this.#lastTime, pipeline.currentTime);
        this.#wantPlay = false;
        // Nothing more to play: free the audio nodes and decoder now (play() starts a new stream).
        this.#endedBuffered = pipeline.receivedSeconds;
        this.#release();
        this.#move('ended');
        this.#emit('timeupdate');
        this.#emit('pause');
        this.#emit('ended');
        break;
    }
  }

  #checkGesture(): void {
    const needs = audioContextNeedsGesture();
    if (needs !== this.#needsGesture) {
      this.#needsGesture = needs;
      this.#host.requestUpdate();
    }
  }

  /** Called by the element once the gesture prompt's gesture resumed the context. */
  gestureResolved(): void {
    this.#checkGesture();
  }

  // ------------------------------------------------------------------------------------------
  // Tick: position-driven work at ~4 Hz while a stream is active

  #startTick(): void {
    if (this.#tickTimer !== undefined) return;
    this.#tickTimer = setInterval(this.#tick, TICK_MS);
  }

  #stopTick(): void {
    if (this.#tickTimer !== undefined) clearInterval(this.#tickTimer);
    this.#tickTimer = undefined;
  }

  readonly #tick = (): void => {
    const pipeline = this.#pipeline;
    if (!pipeline || !isActive(this.#state)) {
      this.#stopTick();
      return;
    }
    const before = this.#lastTime;
    const now = this.currentTime;
    pipeline.setHorizon(now + PlayerController.horizonSeconds);
    if (now !== before) this.#emit('timeupdate');
    if (this.#stats.bytesReceived !== this.#lastProgressBytes) {
      this.#lastProgressBytes = this.#stats.bytesReceived;
      this.#host.dispatchEvent(progressEvent(pipeline.nextByte, pipeline.totalSize));
    }
    this.#stats.discontinuities = Math.max(this.#stats.discontinuities, pipeline.discontinuities);
    this.#checkStart();
    if (this.#needsGesture) this.#checkGesture();
    this.#host.requestUpdate();
  };

  // ------------------------------------------------------------------------------------------
  // Failure, teardown, state

  #fail(error: PlayerError): void {
    if (this.#state === 'error' || this.#state === 'stopped') return;
    this.#retries.cancel();
    this.#reconnecting = false;
    this.#awaitingDemand = false;
    this.#lastTime = this.currentTime;
    // Keep position and buffer (retry continues from here) but no peer while nobody asks.
    this.#pipeline?.closeConnection();
    this.#pipeline?.engine?.pause();
    const wasPlaying = this.#wantPlay;
    this.#wantPlay = false;
    this.#error = error;
    this.#stopTick();
    this.#move('fail');
    this.#rejectPlay(error);
    if (wasPlaying) this.#emit('pause');
    this.#host.dispatchEvent(errorEvent(error));
  }

  /** Ends the stream and what it holds, and the user's play intent with it. */
  #teardown(reason: PlayerError): void {
    this.#release();
    this.#wantPlay = false;
    this.#rejectPlay(reason);
  }

  /** Drops the pipeline (peer, decoder, audio nodes) and every timer. */
  #release(): void {
    this.#retries.cancel();
    this.#clearIdleTimer();
    clearTimeout(this.#previewStartTimer);
    this.#previewStartTimer = undefined;
    this.#awaitingStart = false;
    this.#stopTick();
    this.#reconnecting = false;
    this.#awaitingDemand = false;
    this.#startReached = false;
    this.#pipeline?.destroy();
    this.#pipeline = undefined;
    this.#preconnecting = undefined;
  }

  #setDuration(value: number): void {
    if (Object.is(value, this.#duration)) return;
    this.#duration = value;
    this.#emit('durationchange');
  }

  #move(event: PlayerEvent): void {
    const previous = this.#state;
    let next: PlayerState;
    try {
      next = transition(previous, event);
    } catch (error) {
      this.#stats.illegalTransitions += 1;
      console.error('[rtc-audio-player]', error);
      return;
    }
    this.#state = next;
    if (next !== previous) {
      this.#host.dispatchEvent(new StateChangeEvent({ state: next, previous }));
    }
    this.#host.requestUpdate();
  }

  #emit(name: MediaEventName): void {
    this.#host.dispatchEvent(mediaEvent(name));
    this.#host.requestUpdate();
  }

  #settlePlay(): void {
    const waiters = this.#playWaiters;
    this.#playWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  #rejectPlay(reason: unknown): void {
    const waiters = this.#playWaiters;
    this.#playWaiters = [];
    for (const waiter of waiters) waiter.reject(reason);
  }
}
