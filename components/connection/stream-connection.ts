/**
 * One RTCPeerConnection and one DataChannel for one stream of one file from one byte `offset`.
 * It turns the DataChannel's messages into `metadata`, `chunk(bytes, fileOffset)` and `complete`
 * calls, checks them against the protocol, and turns every way the stream can end badly into one
 * PlayerError. It never retries: the player controller opens a new StreamConnection at
 * `nextOffset` when it decides to.
 *
 * Failure reporting, exactly once per failure:
 * - before `open()` resolved: `open()` rejects (the listener's `error` is not called);
 * - after: the listener's `error` is called, once, after this connection has closed itself.
 * After `close()` (by the caller) nothing is called at all; a pending `open()` rejects with ABORTED.
 */
import { PlayerError, type PlayerErrorCode } from '../errors.js';
import {
  MAX_PRELOAD_BYTES,
  ProtocolError,
  encodeMessage,
  isRetryableStreamError,
  parseServerMessage,
  type MetadataMessage,
  type ServerMessage,
} from '../protocol.js';
import { DEFAULT_SIGNALING_TIMEOUT_MS, requestAnswer } from './signaling.js';
import type { ServerTimingMetric } from './server-timing.js';
import { STREAM_CHANNEL_LABEL, peerConfiguration, takeReadySparePeer, takeSparePeer } from './spare-peer.js';

/**
 * Steps of set-up and streaming, each stamped with performance.now() when reached.
 * `remoteDescriptionSet`, `iceConnected` (ICE checks succeeded) and `peerConnected` (DTLS up:
 * connectionState 'connected') fall between `answerReceived` and `channelOpen` (SCTP up) in an
 * order the browser decides.
 */
export type ConnectionMark =
  | 'peerCreated' // just before new RTCPeerConnection
  | 'offerCreated'
  | 'offerSent' // POST starting (no gathering wait; without ICE servers the local description is set once the answer is in)
  | 'answerReceived'
  | 'remoteDescriptionSet'
  | 'iceConnected'
  | 'peerConnected'
  | 'channelOpen'
  | 'metadata'
  | 'firstChunk' // the first binary message (on a preview connection: before start)
  | 'streamChunk' // the first binary message of the stream proper: after start, past any preview
  | 'complete';

/**
 * new → connecting (open() called) → open (deferStart: metadata in, waiting for start()) or
 * streaming (chunks flowing) → complete (every byte and `complete` received; peer closed), or
 * closed (failed, or close() called) from any state but complete.
 */
export type StreamConnectionState = 'new' | 'connecting' | 'open' | 'streaming' | 'complete' | 'closed';

export interface StreamConnectionOptions {
  /** Signaling base URL; '' = this page's origin. */
  server: string;
  src: string;
  clientId: string;
  /** First byte of the file to receive (resume). Default 0. */
  offset?: number;
  /** Receive metadata, then wait for {@link StreamConnection.start} before the first chunk. */
  deferStart?: boolean;
  /**
   * With deferStart: ask for this many bytes right after the metadata, before start() (the
   * protocol's `preloadBytes`; they arrive as ordinary `chunk` calls). Default 0.
   */
  preloadBytes?: number;
  /**
   * Flow control: the server sends no chunk that begins at or after this file byte until
   * {@link StreamConnection.allow} raises it (the protocol's `windowEnd`). Must be above `offset`.
   * Default: no window, the server sends as fast as its pacing allows.
   */
  windowEnd?: number;
  /** Default [] (no STUN/TURN): the server is reached through its host candidates. */
  iceServers?: RTCIceServer[];
  /** Default 10000. */
  signalingTimeoutMs?: number;
  /** From the answer on: the channel must be open and metadata received within this. Default 10000. */
  openTimeoutMs?: number;
  /** No message for this long while streaming and not complete → STALLED. Default 5000. */
  stallTimeoutMs?: number;
  /** With `iceServers`: longest wait for their candidates before posting the offer. Default 1000. */
  gatherTimeoutMs?: number;
  /**
   * How long `connectionState === 'disconnected'` may last before it counts as lost. Chromium
   * reports `disconnected` after a few seconds without ICE consent responses and often recovers.
   * Default 1500.
   */
  disconnectGraceMs?: number;
}

export interface StreamConnectionListener {
  metadata(message: MetadataMessage): void;
  /** `bytes` is a view of the message's own buffer (no copy); the receiver may keep it. */
  chunk(bytes: Uint8Array, fileOffset: number): void;
  complete(): void;
  /** At most once; the connection has closed itself before this. */
  error(error: PlayerError): void;
}

export const DEFAULT_OPEN_TIMEOUT_MS = 10_000;
export const DEFAULT_STALL_TIMEOUT_MS = 5_000;
export const DEFAULT_DISCONNECT_GRACE_MS = 1_500;
export const DEFAULT_GATHER_TIMEOUT_MS = 1_000;

/** Resolves when ICE gathering is complete or after `timeoutMs`, whichever comes first. */
function gatheringComplete(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete' || pc.signalingState === 'closed') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

export class StreamConnection {
  readonly #options: StreamConnectionOptions;
  readonly #listener: StreamConnectionListener;
  readonly #requestedOffset: number;
  readonly #timing: Partial<Record<ConnectionMark, number>> = {};
  #serverTiming: readonly ServerTimingMetric[] = [];
  #state: StreamConnectionState = 'new';
  #nextOffset: number;
  #metadata: MetadataMessage | undefined;
  /** Offset a deferStart stream was started from. */
  #startedFrom: number | undefined;
  /** First byte after the preview (the metadata's preloadBytes); the requested offset when none. */
  #previewEnd: number;

  #pc: RTCPeerConnection | undefined;
  #channel: RTCDataChannel | undefined;
  readonly #signaling = new AbortController();
  #openTimer: ReturnType<typeof setTimeout> | undefined;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #lastMessageAt = 0;
  /** The flow-control window granted so far: the server begins no chunk at or after it. */
  #windowEnd: number | undefined;
  #torn = false;
  /** The channel's last `error` event (Chromium fires one, e.g. "User-Initiated Abort", before close). */
  #channelError: unknown;

  #opened: Promise<MetadataMessage> | undefined;
  #resolveOpen: ((metadata: MetadataMessage) => void) | undefined;
  #rejectOpen: ((error: PlayerError) => void) | undefined;

  constructor(options: StreamConnectionOptions, listener: StreamConnectionListener) {
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
    this.#options = options;
    this.#listener = listener;
    this.#requestedOffset = offset;
    this.#nextOffset = offset;
    this.#previewEnd = offset;
    const preload = options.preloadBytes ?? 0;
    if (!Number.isSafeInteger(preload) || preload < 0 || preload > MAX_PRELOAD_BYTES) {
      throw new RangeError(`preloadBytes must be an integer in [0, ${MAX_PRELOAD_BYTES}], got ${preload}`);
    }
    if (preload > 0 && !options.deferStart) throw new RangeError('preloadBytes needs deferStart');
    const { windowEnd } = options;
    if (windowEnd !== undefined && (!Number.isSafeInteger(windowEnd) || windowEnd <= offset)) {
      throw new RangeError(`windowEnd must be an integer above the offset ${offset}, got ${windowEnd}`);
    }
    this.#windowEnd = windowEnd;
  }

  /** First byte of the file not yet received: where a new connection resumes. */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  /** performance.now() at each step reached so far. */
  get timing(): Readonly<Partial<Record<ConnectionMark, number>>> {
    return this.#timing;
  }

  /** The signaling response's `Server-Timing` metrics (empty when absent or not exposed). */
  get serverTiming(): readonly ServerTimingMetric[] {
    return this.#serverTiming;
  }

  get state(): StreamConnectionState {
    return this.#state;
  }

  /** The stream's metadata, once received. */
  get metadata(): MetadataMessage | undefined {
    return this.#metadata;
  }

  /**
   * Signaling, ICE, DTLS, SCTP, channel open, metadata. Resolves with the metadata (also given to
   * the listener); rejects with a PlayerError. Calling it again returns the same promise.
   */
  open(): Promise<MetadataMessage> {
    if (this.#opened) return this.#opened;
    this.#opened = new Promise<MetadataMessage>((resolve, reject) => {
      this.#resolveOpen = resolve;
      this.#rejectOpen = reject;
    });
    if (this.#state !== 'new') {
      this.#settleOpen(new PlayerError('ABORTED', 'the connection was closed before it was opened'));
    } else {
      this.#state = 'connecting';
      this.#connect().catch((error: unknown) => {
        this.#fail(error instanceof PlayerError ? error : new PlayerError('CONNECTION_FAILED', 'could not set up the connection', { cause: error }));
      });
    }
    return this.#opened;
  }

  /**
   * On a `deferStart` connection, after metadata: ask the server to send the chunks, from
   * `offset` (default: the offset of this connection, or right after its preview). No-op once the
   * connection has ended, and when repeated with the same offset. Throws on misuse (not
   * deferStart, before metadata, an offset outside the file, a second start from elsewhere, an
   * offset other than the preview's end on a connection with a preview).
   */
  start(offset?: number): void {
    if (this.#state === 'closed' || this.#state === 'complete') return;
    if (!this.#options.deferStart) throw new Error('start() is for deferStart connections; this one streams at once');
    // A repeated start (a double click racing the first) is harmless; a different offset is a bug.
    if (this.#state === 'streaming' && (offset === undefined || offset === this.#startedFrom)) return;
    if (this.#state !== 'open' || !this.#metadata || !this.#channel) {
      throw new Error(`start() needs an open connection waiting to start (state: ${this.#state})`);
    }
    const preview = this.#previewEnd > this.#requestedOffset;
    if (preview && offset !== undefined && offset !== this.#previewEnd) {
      throw new RangeError(`start offset ${offset}: this connection's preview ends at ${this.#previewEnd}, the stream continues there`);
    }
    const from = offset ?? (preview ? this.#previewEnd : this.#nextOffset);
    if (preview && from === this.#metadata.totalSize) {
      // The preview is the whole rest of the file: `complete` follows it, nothing to ask for.
      this.#startedFrom = from;
      this.#beginStreaming();
      return;
    }
    if (!Number.isSafeInteger(from) || from < 0 || (from > 0 && from >= this.#metadata.totalSize)) {
      throw new RangeError(`start offset ${from} is outside the file (0..${this.#metadata.totalSize - 1})`);
    }
    try {
      this.#channel.send(encodeMessage(offset === undefined ? { type: 'start' } : { type: 'start', offset }));
    } catch (error) {
      this.#fail(new PlayerError('CONNECTION_LOST', 'the data channel closed before the stream could start', { cause: error }));
      return;
    }
    // With a preview, its chunks still in flight come first: the count goes on from them.
    if (!preview) this.#nextOffset = from;
    this.#startedFrom = from;
    this.#beginStreaming();
  }

  /** The flow-control window granted so far (undefined: none, the server sends freely). */
  get windowEnd(): number | undefined {
    return this.#windowEnd;
  }

  /**
   * Whether the server has sent all the window allows: it sends nothing more until
   * {@link allow}, so silence now is flow control, not a stall.
   */
  get held(): boolean {
    return this.#windowEnd !== undefined && this.#nextOffset >= this.#windowEnd;
  }

  /**
   * Flow control: lets the server send chunks that begin below `end` (the protocol's `window`).
   * Raises the window only; a lower or equal `end` is a no-op, as it is before the metadata and
   * once the connection has ended. Leaving a hold restarts the stall clock.
   */
  allow(end: number): void {
    if (this.#windowEnd !== undefined && end <= this.#windowEnd) return;
    if (!this.#channel || (this.#state !== 'open' && this.#state !== 'streaming')) return;
    const wasHeld = this.held;
    try {
      this.#channel.send(encodeMessage({ type: 'window', end }));
    } catch (error) {
      this.#fail(new PlayerError('CONNECTION_LOST', 'the data channel closed', { cause: error }));
      return;
    }
    this.#windowEnd = end;
    if (wasHeld && this.#state === 'streaming') this.#restartStallClock();
  }

  /** Idempotent. Closes channel and peer, clears every timer; no listener call after it. */
  close(): void {
    if (this.#state !== 'complete') this.#state = 'closed';
    this.#teardown();
    this.#settleOpen(new PlayerError('ABORTED', 'the connection was closed'));
  }

  // -------------------------------------------------------------------------------------------
  // Set-up

  async #connect(): Promise<void> {
    const { server, src, clientId, deferStart } = this.#options;
    const iceServers = this.#options.iceServers ?? [];
    // A spare peer made before play() (preload="none" players lease one; see spare-peer.ts) already
    // has its channel and offer: a cold start skips straight to setLocalDescription + POST.
    // Taken synchronously when ready, so that the offer is posted from within play() (see takeReadySparePeer).
    const spare = iceServers.length === 0 ? (takeReadySparePeer() ?? (await takeSparePeer())) : undefined;
    if (this.#torn) {
      spare?.pc.close();
      return;
    }
    this.#mark('peerCreated');
    const pc = spare?.pc ?? new RTCPeerConnection(peerConfiguration(iceServers));
    this.#pc = pc;
    const channel = spare?.channel ?? pc.createDataChannel(STREAM_CHANNEL_LABEL, { ordered: true });
    // The spec's default is now 'arraybuffer', older engines said 'blob': never rely on it.
    channel.binaryType = 'arraybuffer';
    this.#channel = channel;
    channel.onopen = this.#onChannelOpen;
    channel.onmessage = this.#onMessage;
    channel.onclose = this.#onChannelClose;
    channel.onerror = this.#onChannelError;
    pc.onconnectionstatechange = this.#onConnectionStateChange;
    pc.oniceconnectionstatechange = this.#onIceConnectionStateChange;

    const offer = spare?.offer ?? (await pc.createOffer());
    if (this.#torn) return;
    this.#mark('offerCreated');
    // Post at once: waiting for ICE gathering to complete costs ~130 ms in Chromium and gains
    // nothing when the server is directly reachable — its candidates in the answer are all ICE
    // needs, and it learns ours from our checks (peer-reflexive). Without ICE servers there is
    // nothing to wait for at all, not even setLocalDescription: the offer's SDP is final once
    // created, so it is posted as it is, and the local description is set when the answer is in,
    // queued right before the remote one. Why not meanwhile: setting it starts ICE (ports bound
    // through the browser's network service, work on the WebRTC threads) in the very milliseconds
    // the offer is on its way and the server answers, on the same CPUs; after the answer it costs
    // ~1 ms of ICE (bench, 12–14 runs each, two rounds: answer 3–7 ms and first chunk ~4 ms
    // earlier). Only candidates from configured STUN/TURN servers (a client that can reach the
    // server only through a relay) are worth a short, bounded wait.
    let localSet: Promise<void> | undefined;
    let sdp = offer.sdp ?? '';
    if (iceServers.length > 0) {
      localSet = pc.setLocalDescription(offer);
      await localSet;
      if (this.#torn) return;
      await gatheringComplete(pc, this.#options.gatherTimeoutMs ?? DEFAULT_GATHER_TIMEOUT_MS);
      if (this.#torn) return;
      sdp = pc.localDescription?.sdp ?? sdp;
    }
    this.#mark('offerSent');
    const result = await requestAnswer(
      server,
      {
        offer: { type: 'offer', sdp },
        clientId,
        src,
        ...(this.#requestedOffset > 0 ? { offset: this.#requestedOffset } : {}),
        ...(deferStart ? { deferStart: true } : {}),
        ...(this.#options.preloadBytes ? { preloadBytes: this.#options.preloadBytes } : {}),
        ...(this.#options.windowEnd === undefined ? {} : { windowEnd: this.#options.windowEnd }),
      },
      { timeoutMs: this.#options.signalingTimeoutMs ?? DEFAULT_SIGNALING_TIMEOUT_MS, signal: this.#signaling.signal },
    );
    if (this.#torn) return;
    this.#mark('answerReceived');
    this.#serverTiming = result.serverTiming;
    // Both queued at once (the peer connection runs them in order): the remote description
    // follows the local one without a round trip through this thread.
    localSet ??= pc.setLocalDescription(offer);
    const remoteSet = pc.setRemoteDescription(result.answer);
    remoteSet.catch(() => undefined); // awaited below, after the local one; no unhandled rejection meanwhile
    await localSet;
    if (this.#torn) return;
    try {
      await remoteSet;
    } catch (error) {
      if (this.#torn) return;
      throw new PlayerError('SIGNALING_BAD_RESPONSE', 'the server answered with a session description this browser rejects', { cause: error });
    }
    if (this.#torn) return;
    this.#mark('remoteDescriptionSet');
    // ICE may connect before setRemoteDescription resolves; on a loaded machine even the metadata
    // may already be here, and then there is nothing left to time out.
    if (this.#metadata) return;
    const openTimeoutMs = this.#options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    this.#openTimer = setTimeout(() => {
      this.#openTimer = undefined;
      const opened = this.#channel?.readyState === 'open';
      this.#fail(
        new PlayerError(
          'CONNECTION_FAILED',
          opened ? `no metadata within ${openTimeoutMs} ms of the answer` : `the data channel did not open within ${openTimeoutMs} ms`,
        ),
      );
    }, openTimeoutMs);
  }

  // -------------------------------------------------------------------------------------------
  // Events (arrow functions: assigned as handlers and detached by identity in #teardown)

  readonly #onChannelOpen = (): void => {
    this.#mark('channelOpen');
  };

  readonly #onIceConnectionStateChange = (): void => {
    const state = this.#pc?.iceConnectionState;
    if ((state === 'connected' || state === 'completed') && this.#timing.iceConnected === undefined) this.#mark('iceConnected');
  };

  readonly #onConnectionStateChange = (): void => {
    const state = this.#pc?.connectionState;
    if (state === 'connected') {
      if (this.#timing.peerConnected === undefined) this.#mark('peerConnected');
      clearTimeout(this.#disconnectTimer);
      this.#disconnectTimer = undefined;
    } else if (state === 'failed' || state === 'closed') {
      this.#fail(this.#lost(`the peer connection ${state}`));
    } else if (state === 'disconnected' && this.#disconnectTimer === undefined) {
      const grace = this.#options.disconnectGraceMs ?? DEFAULT_DISCONNECT_GRACE_MS;
      this.#disconnectTimer = setTimeout(() => {
        this.#disconnectTimer = undefined;
        this.#fail(this.#lost(`the peer connection stayed disconnected for ${grace} ms`));
      }, grace);
    }
  };

  readonly #onChannelError = (event: Event): void => {
    this.#channelError = (event as RTCErrorEvent).error ?? event;
  };

  readonly #onChannelClose = (): void => {
    this.#fail(this.#lost('the data channel closed before the stream was complete'));
  };

  readonly #onMessage = (event: MessageEvent): void => {
    const { data } = event;
    this.#lastMessageAt = performance.now();
    if (data instanceof ArrayBuffer) this.#onChunk(new Uint8Array(data));
    else if (typeof data === 'string') this.#onText(data);
    else this.#protocolError('a binary message arrived in an unexpected form');
  };

  // -------------------------------------------------------------------------------------------
  // Messages

  #onChunk(bytes: Uint8Array): void {
    const metadata = this.#metadata;
    if (!metadata) return this.#protocolError('a binary chunk arrived before the metadata');
    const fileOffset = this.#nextOffset;
    const end = fileOffset + bytes.byteLength;
    if (this.#state !== 'streaming' && end > this.#previewEnd) return this.#protocolError('a binary chunk arrived before start');
    if (end > metadata.totalSize) {
      return this.#protocolError(`chunk at byte ${fileOffset} of ${bytes.byteLength} bytes runs past the file's ${metadata.totalSize} bytes`);
    }
    this.#nextOffset = end;
    if (this.#timing.firstChunk === undefined) this.#mark('firstChunk');
    if (this.#timing.streamChunk === undefined && end > this.#previewEnd) this.#mark('streamChunk');
    this.#listener.chunk(bytes, fileOffset);
  }

  #onText(text: string): void {
    let message: ServerMessage;
    try {
      message = parseServerMessage(text);
    } catch (error) {
      const reason = error instanceof ProtocolError ? error.message : 'unreadable message';
      return this.#protocolError(`the server sent an invalid message: ${reason}`, error);
    }
    switch (message.type) {
      case 'metadata':
        return this.#onMetadata(message);
      case 'complete':
        return this.#onComplete();
      case 'error':
        return this.#fail(
          new PlayerError('STREAM_ERROR', message.message || `the server reported ${message.code}`, {
            detail: message.code,
            fatal: !isRetryableStreamError(message.code),
          }),
        );
    }
  }

  #onMetadata(metadata: MetadataMessage): void {
    if (this.#metadata) return this.#protocolError('a second metadata message arrived');
    if (metadata.offset !== this.#requestedOffset) {
      return this.#protocolError(`metadata says the stream starts at byte ${metadata.offset}, but byte ${this.#requestedOffset} was asked for`);
    }
    const preview = metadata.preloadBytes ?? 0;
    if (preview > (this.#options.preloadBytes ?? 0)) {
      return this.#protocolError(`metadata announces a preview of ${preview} bytes, but ${this.#options.preloadBytes ?? 0} were asked for`);
    }
    this.#previewEnd = this.#requestedOffset + preview;
    this.#metadata = metadata;
    this.#mark('metadata');
    clearTimeout(this.#openTimer);
    this.#openTimer = undefined;
    if (this.#options.deferStart) this.#state = 'open';
    else this.#beginStreaming();
    try {
      this.#listener.metadata(metadata);
    } finally {
      // After the listener: it sees metadata before the `await open()` continuation runs.
      this.#settleOpen(metadata);
    }
  }

  #onComplete(): void {
    const metadata = this.#metadata;
    if (!metadata) return this.#protocolError('complete arrived before the metadata');
    if (this.#nextOffset !== metadata.totalSize) {
      return this.#protocolError(`complete arrived after byte ${this.#nextOffset} of ${metadata.totalSize}`);
    }
    this.#state = 'complete';
    this.#mark('complete');
    this.#clearTimers();
    try {
      this.#listener.complete();
    } finally {
      // The stream is done: free the peer now rather than when the caller gets round to close().
      this.#teardown();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Stall detection: one timer re-armed lazily, so a chunk costs a timestamp, not a setTimeout.

  #beginStreaming(): void {
    this.#state = 'streaming';
    this.#restartStallClock();
  }

  /** Silence counts from now (streaming begins, or our own hold ends). */
  #restartStallClock(): void {
    this.#lastMessageAt = performance.now();
    if (this.#stallTimer === undefined) this.#armStallTimer(this.#options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS);
  }

  #armStallTimer(delay: number): void {
    this.#stallTimer = setTimeout(this.#onStallTimer, Math.max(0, delay));
  }

  readonly #onStallTimer = (): void => {
    this.#stallTimer = undefined;
    // Held by our own window: allow() re-arms the timer with a fresh clock.
    if (this.#state !== 'streaming' || this.held) return;
    const timeout = this.#options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    const idle = performance.now() - this.#lastMessageAt;
    if (idle < timeout) return this.#armStallTimer(timeout - idle);
    this.#fail(new PlayerError('STALLED', `no data for ${Math.round(idle)} ms while the stream was not complete`));
  };

  // -------------------------------------------------------------------------------------------
  // Ending

  #lost(message: string): PlayerError {
    const opened = this.#metadata !== undefined || this.#timing.channelOpen !== undefined;
    const init = this.#channelError === undefined ? {} : { cause: this.#channelError };
    return new PlayerError(opened ? 'CONNECTION_LOST' : 'CONNECTION_FAILED', opened ? message : `could not connect: ${message}`, init);
  }

  #protocolError(message: string, cause?: unknown): void {
    // A server that breaks the protocol once will do it again: retrying cannot help.
    this.#fail(new PlayerError('PROTOCOL', message, { fatal: true, cause }));
  }

  /** Ends the connection because of `error`, reported once: to open() if pending, else to the listener. */
  #fail(error: PlayerError): void {
    if (this.#state === 'closed' || this.#state === 'complete') return;
    this.#state = 'closed';
    this.#teardown();
    if (this.#rejectOpen) this.#settleOpen(error);
    else this.#listener.error(error);
  }

  #settleOpen(result: MetadataMessage | PlayerError): void {
    const resolve = this.#resolveOpen;
    const reject = this.#rejectOpen;
    this.#resolveOpen = undefined;
    this.#rejectOpen = undefined;
    if (result instanceof PlayerError) reject?.(result);
    else resolve?.(result);
  }

  #clearTimers(): void {
    clearTimeout(this.#openTimer);
    clearTimeout(this.#stallTimer);
    clearTimeout(this.#disconnectTimer);
    this.#openTimer = this.#stallTimer = this.#disconnectTimer = undefined;
  }

  #teardown(): void {
    if (this.#torn) return;
    this.#torn = true;
    this.#clearTimers();
    this.#signaling.abort();
    const channel = this.#channel;
    const pc = this.#pc;
    this.#channel = undefined;
    this.#pc = undefined;
    if (channel) {
      channel.onopen = channel.onmessage = channel.onclose = channel.onerror = null;
      if (channel.readyState === 'connecting' || channel.readyState === 'open') channel.close();
    }
    if (pc) {
      pc.onconnectionstatechange = pc.oniceconnectionstatechange = null;
      pc.close();
    }
  }

  #mark(mark: ConnectionMark): void {
    this.#timing[mark] = performance.now();
  }
}

/** Codes a StreamConnection reports (to open()'s rejection or the listener's `error`). */
export type StreamConnectionErrorCode = Extract<
  PlayerErrorCode,
  | 'SIGNALING_UNREACHABLE'
  | 'SIGNALING_TIMEOUT'
  | 'SIGNALING_HTTP'
  | 'SIGNALING_BAD_RESPONSE'
  | 'CONNECTION_FAILED'
  | 'CONNECTION_LOST'
  | 'STALLED'
  | 'STREAM_ERROR'
  | 'PROTOCOL'
  | 'ABORTED'
>;
