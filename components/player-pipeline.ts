/**
 * One stream of one track, wired one way: StreamConnection → StreamDecoder → PlaybackEngine.
 * It survives reconnections (each new StreamConnection resumes at the first byte not yet
 * received, and the same decoder carries on), reports everything that happens to its listener,
 * and decides nothing: recovery belongs to the PlayerController.
 */
import { StreamConnection, type ConnectionMark } from './connection/stream-connection.js';
import { StreamDecoder } from './decoder/stream-decoder.js';
import { PlaybackEngine } from './playback/playback-engine.js';
import { sharedAudioContext } from './playback/audio-context.js';
import { PlayerError } from './errors.js';
import type { PcmBlock, StreamInfo } from './pcm.js';
import type { MetadataMessage } from './protocol.js';

export interface PipelineOptions {
  server: string;
  src: string;
  clientId: string;
  /** Seconds of PCM the decoder may produce ahead of the play position once playing. */
  horizonSeconds: number;
  /** The horizon until the owner moves it (setHorizon): less decode work while the engine starts. Default horizonSeconds. */
  initialHorizonSeconds?: number;
  /** Compressed audio the server may send beyond what was decoded. Default {@link DEFAULT_FLOW_WINDOW}. */
  flowWindow?: FlowWindow;
}

/**
 * Receive-side flow control by credit (the protocol's window): the server may send up to `high`
 * bytes past the last byte decoded, so the compressed bytes held undecoded (waiting here and inside
 * the decoder) never exceed `high` plus one message, however late the client runs — a pause/resume
 * scheme overshoots by its round trip times the send rate, which on a busy machine was 0.5 MB.
 * The window is raised in steps of half of it: one small message per ~15 s of audio. `high` is
 * `seconds` of audio at the track's byte rate, at least `minBytes`: the server sends 64 KiB
 * messages, so a window of a few of them keeps a low-bitrate track from stopping on every message.
 *
 * Why 30 s: this comes on top of the decoder's PCM horizon (30 s ahead of the play position), so
 * the audio held ahead stays between 45 and 60 s (more than the PCM horizon alone, which is what a
 * reconnect rides on) while a 60-minute track holds no more than a 5-minute one.
 */
export interface FlowWindow {
  seconds: number;
  minBytes: number;
}
export const DEFAULT_FLOW_WINDOW: Readonly<FlowWindow> = Object.freeze({ seconds: 30, minBytes: 256 * 1024 });

export interface PipelineListener {
  /** A connection opened and sent its metadata (every connection, first and resumed). */
  metadata(message: MetadataMessage): void;
  /**
   * Flow control: playback freed half a window while no connection is open (the last one ended
   * while the pipeline held all it had asked for): now is the time to reconnect.
   */
  demand(): void;
  /** Bytes were handed to the decoder. */
  bytes(count: number): void;
  /** The decoder produced PCM (the engine has more to play). */
  pcm(): void;
  info(info: StreamInfo): void;
  /** Every byte of the file arrived and the decoder flushed: the engine knows where the end is. */
  complete(): void;
  /** The current connection failed; it has already closed itself. Not called after close. */
  connectionError(error: PlayerError): void;
  /** The decoder cannot go on (UNSUPPORTED_FORMAT, DECODE_FAILED) or the bytes broke the protocol. */
  fatal(error: PlayerError): void;
  discontinuity(skippedBytes: number): void;
  engine(event: 'playing' | 'underrun' | 'ended'): void;
}

/** Opt-in observer of every byte handed to the decoder, for tests (no cost when unset). */
export type ChunkObserver = (bytes: Uint8Array, fileOffset: number) => void;

/**
 * Bytes are handed to the decoder while it holds less than this many seconds of received,
 * not yet decoded audio; later chunks wait here (in order) and follow as it decodes.
 */
const DECODER_FEED_SECONDS = 3;
/** The window counts from the last byte received while the decoder starves (see #windowEndNow): less PCM than this ahead... */
const MIN_PCM_AHEAD_SECONDS = 10;
/** ...and less than this of parsed frames waiting to be decoded. */
const STARVING_FRAME_SECONDS = 0.5;

export class PlayerPipeline {
  readonly #options: PipelineOptions;
  readonly #listener: PipelineListener;
  readonly #engineReady: Promise<PlaybackEngine>;
  #engine: PlaybackEngine | undefined;
  #pendingPcm: PcmBlock[] = [];
  #decoder: StreamDecoder | undefined;
  /**
   * Received bytes not yet handed to the decoder, in file order. Why: the server bursts the first
   * ~1 MiB at once; parsing every chunk of it on arrival kept the main thread busy while the
   * first decoded blocks — what start-up waits for — queued behind it (20–50 ms on 2 cores).
   * The decoder gets exactly the same bytes in the same order, only a little later.
   */
  #unfed: Uint8Array[] = [];
  #unfedBytes = 0;
  /** Bytes handed to the decoder so far (for the measured byte rate). */
  #fedBytes = 0;
  /** Flow control: the window end granted (the current connection's, or the next one's). */
  #grantedEnd: number | undefined;
  #connection: StreamConnection | undefined;
  #firstTiming: Readonly<Partial<Record<ConnectionMark, number>>> | undefined;
  #metadata: MetadataMessage | undefined;
  #nextByte = 0;
  #complete = false;
  #streamStartedAt: number | undefined;
  /** When the last chunk arrived (a preview's idle time until start() is not arrival time). */
  #lastChunkAt = 0;
  #bytesAtStreamStart = 0;
  #secondsAtStreamStart = 0;
  #destroyed = false;
  #volume = 1;
  #muted = false;
  chunkObserver: ChunkObserver | undefined;
  /** Opt-in observer of the engine's output node as soon as it exists, for tests (output taps). */
  outputObserver: ((output: AudioNode) => void) | undefined;

  constructor(options: PipelineOptions, listener: PipelineListener) {
    this.#options = options;
    this.#listener = listener;
    // Not in this task: a cold play() posts its offer synchronously right after making the
    // pipeline, and the page's first AudioWorklet module costs the main thread milliseconds that
    // are better spent while the offer is in flight (the engine is needed at the first PCM).
    this.#engineReady = Promise.resolve().then(() => PlaybackEngine.create(sharedAudioContext())).then((engine) => {
      if (this.#destroyed) {
        engine.destroy();
        throw new PlayerError('ABORTED', 'pipeline destroyed');
      }
      this.#engine = engine;
      engine.volume = this.#volume;
      engine.muted = this.#muted;
      engine.addEventListener('playing', () => this.#listener.engine('playing'));
      engine.addEventListener('underrun', () => this.#listener.engine('underrun'));
      engine.addEventListener('ended', () => this.#listener.engine('ended'));
      engine.addEventListener('error', (event) => {
        const detail = (event as CustomEvent<unknown>).detail;
        this.#listener.fatal(detail instanceof PlayerError ? detail : new PlayerError('AUDIO_CONTEXT', 'the audio output failed', { fatal: true }));
      });
      this.outputObserver?.(engine.output);
      for (const block of this.#pendingPcm) engine.enqueue(block);
      this.#pendingPcm = [];
      return engine;
    });
    // A failed engine surfaces through play(); keep the rejection from being reported as unhandled.
    this.#engineReady.catch(() => undefined);
  }

  /** First byte of the file not yet handed to the decoder: where a new connection resumes. */
  get nextByte(): number {
    return this.#nextByte;
  }
  get totalSize(): number | undefined {
    return this.#metadata?.totalSize;
  }
  get metadata(): MetadataMessage | undefined {
    return this.#metadata;
  }
  get complete(): boolean {
    return this.#complete;
  }
  /** The current connection's preview (if it asked for one) has arrived in full. */
  get previewReceived(): boolean {
    const metadata = this.#connection?.metadata;
    return metadata !== undefined && this.#nextByte >= metadata.offset + (metadata.preloadBytes ?? 0);
  }
  get connected(): boolean {
    const state = this.#connection?.state;
    return state === 'open' || state === 'streaming';
  }
  /** A connection exists (opening, open or streaming). */
  get hasConnection(): boolean {
    return this.#connection !== undefined;
  }
  get connectionState(): StreamConnection['state'] | undefined {
    return this.#connection?.state;
  }
  get engine(): PlaybackEngine | undefined {
    return this.#engine;
  }
  /** Compressed bytes received and not yet decoded (waiting here, or inside the decoder). */
  get heldCompressedBytes(): number {
    return this.#unfedBytes + (this.#decoder?.heldBytes ?? 0);
  }
  /** Decoded PCM not yet played (in the playback queue, or waiting for the engine). */
  get heldPcmBytes(): number {
    let pending = 0;
    for (const block of this.#pendingPcm) pending += block.channels.reduce((n, channel) => n + channel.byteLength, 0);
    return pending + (this.#engine?.queuedBytes ?? 0);
  }
  /** Flow control: every byte granted has arrived, so the server holds the stream until more is granted. */
  get saturated(): boolean {
    return this.#grantedEnd !== undefined && this.#nextByte >= this.#grantedEnd;
  }
  /** The flow-control window in bytes for this track (see {@link FlowWindow}). */
  #flowWindowBytes(): number {
    const window = this.#options.flowWindow ?? DEFAULT_FLOW_WINDOW;
    const rate = this.#bytesPerSecond();
    return rate === undefined ? window.minBytes : Math.max(window.minBytes, Math.round(window.seconds * rate));
  }
  get receivedSeconds(): number {
    return this.#decoder?.receivedSeconds ?? 0;
  }
  get decodedSeconds(): number {
    return this.#decoder?.decodedSeconds ?? 0;
  }
  get discontinuities(): number {
    return this.#decoder?.discontinuities ?? 0;
  }
  get currentTime(): number {
    return this.#engine?.currentTime ?? 0;
  }
  get queuedSeconds(): number {
    return this.#engine?.queuedSeconds ?? 0;
  }
  /** Marks of the first connection this pipeline opened (the one start-up time is made of). */
  get connectionTiming(): Readonly<Partial<Record<ConnectionMark, number>>> {
    return this.#firstTiming ?? this.#connection?.timing ?? {};
  }

  /**
   * Audio seconds received per wall-clock second since the current connection began streaming;
   * undefined until at least one chunk arrived on it.
   */
  get arrivalRate(): number | undefined {
    if (this.#streamStartedAt === undefined || this.#decoder === undefined) return undefined;
    const seconds = this.#decoder.receivedSeconds - this.#secondsAtStreamStart;
    const elapsed = (performance.now() - this.#streamStartedAt) / 1000;
    if (seconds <= 0 || this.#nextByte === this.#bytesAtStreamStart) return undefined;
    return seconds / Math.max(elapsed, 0.001);
  }

  set volume(value: number) {
    this.#volume = value;
    if (this.#engine) this.#engine.volume = value;
  }
  set muted(value: boolean) {
    this.#muted = value;
    if (this.#engine) this.#engine.muted = value;
  }

  engineReady(): Promise<PlaybackEngine> {
    return this.#engineReady;
  }

  /**
   * Opens a connection at {@link nextByte}. Resolves once its metadata arrived; rejects with the
   * connection's PlayerError (the listener's connectionError is not called for that one).
   * `preloadBytes` (deferStart only): the preview, received and decoded before start().
   */
  async connect(deferStart: boolean, preloadBytes = 0): Promise<MetadataMessage> {
    if (this.#destroyed) throw new PlayerError('ABORTED', 'pipeline destroyed');
    this.closeConnection();
    const offset = this.#nextByte;
    // A window must lie above the offset: one message past a full window is bounded and harmless.
    const windowEnd = Math.max(this.#windowEndNow(), offset + 1);
    this.#grantedEnd = windowEnd;
    let opened = false;
    const connection: StreamConnection = new StreamConnection(
      {
        server: this.#options.server,
        src: this.#options.src,
        clientId: this.#options.clientId,
        offset,
        deferStart,
        ...(deferStart && preloadBytes > 0 ? { preloadBytes } : {}),
        windowEnd,
      },
      {
        // open() resolves with it; a preview's first chunk may follow in the very next task,
        // and it needs the decoder by then.
        metadata: (metadata) => {
          if (this.#connection === connection && !this.#decoder && !this.#metadata) this.#createDecoder(metadata.mimeType);
        },
        chunk: (bytes, fileOffset) => this.#chunk(connection, bytes, fileOffset),
        complete: () => this.#streamComplete(connection),
        error: (error) => {
          if (this.#connection !== connection) return;
          this.#connection = undefined;
          // Before open() settled, its rejection carries the error: report it once.
          if (opened) this.#listener.connectionError(error);
        },
      },
    );
    this.#connection = connection;
    this.#streamStartedAt = undefined;
    let metadata: MetadataMessage;
    try {
      metadata = await connection.open();
    } catch (error) {
      if (this.#connection === connection) this.#connection = undefined;
      connection.close();
      throw error instanceof PlayerError ? error : new PlayerError('CONNECTION_FAILED', String(error), { cause: error });
    }
    if (this.#connection !== connection) throw new PlayerError('ABORTED', 'connection replaced');
    opened = true;
    this.#firstTiming ??= connection.timing;
    if (this.#metadata && this.#metadata.totalSize !== metadata.totalSize) {
      // The file changed between connections: its bytes would not continue ours.
      this.closeConnection();
      throw new PlayerError('STREAM_ERROR', 'the file changed on the server while it was streaming', {
        fatal: true,
        detail: 'FILE_CHANGED',
      });
    }
    this.#metadata = metadata;
    if (!this.#decoder) this.#createDecoder(metadata.mimeType);
    this.#listener.metadata(metadata);
    // The byte rate is known now: widen the offer's window (sized without it) at once.
    this.#flowCheck();
    // A preview's arrival is arrival like any other: the rate is measured from here on.
    if (!deferStart || metadata.preloadBytes) this.#markStreamStart();
    return metadata;
  }

  /**
   * Begins the chunk stream on a deferred-start connection opened by {@link connect}; after a
   * preview it continues where the preview ends.
   */
  start(): void {
    const connection = this.#connection;
    if (!connection) throw new PlayerError('ABORTED', 'no connection to start');
    if (connection.metadata?.preloadBytes) {
      connection.start();
      // Keep the rate measured on the preview, minus the time the channel sat idle since.
      if (this.#streamStartedAt !== undefined && this.#nextByte > this.#bytesAtStreamStart) {
        this.#streamStartedAt += Math.max(0, performance.now() - this.#lastChunkAt);
      } else {
        this.#markStreamStart();
      }
      return;
    }
    connection.start(this.#nextByte);
    this.#markStreamStart();
  }

  /** Closes the current connection (if any) without a callback; the pipeline stays usable. */
  closeConnection(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.close();
  }

  /** Moves the decode horizon (the controller's tick, ~4 Hz), and re-checks flow control with the position. */
  setHorizon(seconds: number): void {
    this.#decoder?.setHorizon(seconds);
    this.#flowCheck();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.closeConnection();
    this.#decoder?.destroy();
    this.#decoder = undefined;
    this.#unfed = [];
    this.#unfedBytes = 0;
    this.#engine?.destroy();
    this.#engine = undefined;
    this.#pendingPcm = [];
    this.chunkObserver = undefined;
    this.outputObserver = undefined;
  }

  #markStreamStart(): void {
    this.#streamStartedAt = performance.now();
    this.#bytesAtStreamStart = this.#nextByte;
    this.#secondsAtStreamStart = this.#decoder?.receivedSeconds ?? 0;
  }

  #createDecoder(mimeType: string): void {
    this.#decoder = new StreamDecoder({
      mimeType,
      onPcm: (block) => {
        if (this.#engine) this.#engine.enqueue(block);
        else this.#pendingPcm.push(block);
        if (this.#unfed.length > 0) this.#feedDecoder();
        this.#flowCheck();
        this.#listener.pcm();
      },
      onInfo: (info) => this.#listener.info(info),
      onError: (error) => this.#listener.fatal(error),
      onDiscontinuity: (skipped) => this.#listener.discontinuity(skipped),
    });
    this.#decoder.setHorizon(this.#options.initialHorizonSeconds ?? this.#options.horizonSeconds);
  }

  #chunk(connection: StreamConnection, bytes: Uint8Array, fileOffset: number): void {
    if (this.#connection !== connection || !this.#decoder) return;
    let view = bytes;
    if (fileOffset !== this.#nextByte) {
      const end = fileOffset + bytes.byteLength;
      if (fileOffset > this.#nextByte || end <= this.#nextByte) {
        this.closeConnection();
        this.#listener.fatal(
          new PlayerError('PROTOCOL', `chunk at byte ${fileOffset} does not continue the stream at byte ${this.#nextByte}`, {
            fatal: true,
          }),
        );
        return;
      }
      view = bytes.subarray(this.#nextByte - fileOffset);
    }
    this.chunkObserver?.(view, this.#nextByte);
    this.#lastChunkAt = performance.now();
    this.#nextByte += view.byteLength;
    this.#unfed.push(view);
    this.#unfedBytes += view.byteLength;
    this.#feedDecoder();
    this.#flowCheck();
    this.#listener.bytes(view.byteLength);
  }

  /**
   * Audio bytes per second: from the metadata (size / duration) when the server knew the
   * duration, else measured from what the decoder has parsed; undefined before either is known
   * (the byte floor alone applies then).
   */
  #bytesPerSecond(): number | undefined {
    const metadata = this.#metadata;
    if (metadata?.duration !== undefined && metadata.duration > 0) return metadata.totalSize / metadata.duration;
    const seconds = this.#decoder?.receivedSeconds ?? 0;
    return seconds >= 1 ? this.#fedBytes / seconds : undefined;
  }

  /**
   * The window end to grant now: a window past the last byte decoded. While the decoder starves
   * — no whole frame left to decode, nothing waiting here and little PCM ahead of the play
   * position — the bytes it holds are not turning into audio (a large tag or an MP4 index still
   * being parsed): then the window counts from the last byte received, or it would deadlock.
   */
  #windowEndNow(window = this.#flowWindowBytes()): number {
    const decoder = this.#decoder;
    let from = this.#nextByte - this.heldCompressedBytes; // the last byte decoded
    if (decoder && this.#unfedBytes === 0) {
      const framesAhead = decoder.receivedSeconds - decoder.decodedSeconds;
      const pcmAhead = decoder.decodedSeconds - this.currentTime;
      const starving = framesAhead < STARVING_FRAME_SECONDS && pcmAhead < Math.min(MIN_PCM_AHEAD_SECONDS, this.#options.horizonSeconds / 2);
      if (starving) from = this.#nextByte;
    }
    // An unbounded window (the bench's "flow control off") is the protocol's largest end.
    return Math.min(from + window, Number.MAX_SAFE_INTEGER);
  }

  /** Raises the window by steps of half of it; with no connection open, asks for one instead. */
  #flowCheck(): void {
    if (this.#complete || this.#destroyed || this.#grantedEnd === undefined) return;
    const window = this.#flowWindowBytes();
    const end = this.#windowEndNow(window);
    if (end < this.#grantedEnd + window / 2) return;
    this.#grantedEnd = end;
    if (this.#connection) this.#connection.allow(end);
    else this.#listener.demand();
  }

  /** Hands waiting bytes to the decoder while it has little undecoded audio (see #unfed). */
  #feedDecoder(all = false): void {
    const decoder = this.#decoder;
    if (!decoder) return;
    while (this.#unfed.length > 0 && (all || decoder.receivedSeconds - decoder.decodedSeconds < DECODER_FEED_SECONDS)) {
      const bytes = this.#unfed.shift()!;
      this.#unfedBytes -= bytes.byteLength;
      this.#fedBytes += bytes.byteLength;
      decoder.push(bytes);
    }
  }

  #streamComplete(connection: StreamConnection): void {
    if (this.#connection !== connection || this.#complete) return;
    this.#complete = true;
    // Every byte is here: release the peer now rather than wait for the server to close it.
    this.closeConnection();
    const decoder = this.#decoder;
    if (!decoder) return;
    this.#feedDecoder(true);
    void decoder.end().then(
      () => {
        if (this.#destroyed) return;
        void this.#engineReady.then((engine) => {
          if (this.#destroyed) return;
          engine.markEnd();
          this.#listener.complete();
        }, () => undefined);
      },
      (error: unknown) => {
        if (!this.#destroyed) this.#listener.fatal(error instanceof PlayerError ? error : new PlayerError('DECODE_FAILED', String(error), { cause: error, fatal: true }));
      },
    );
  }
}
