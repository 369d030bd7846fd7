/**
 * One server-side peer connection serving one stream. Everything that can end it funnels into
 * one guarded `close()`: @roamhq/wrtc segfaults when a closed peer or channel is touched again,
 * so the order is fixed (flag → stop sending → release the file → detach handlers → close the
 * channel if it is still open → close the peer once → drop references) and runs exactly once.
 */
import type { OfferRequest } from '../../components/protocol';
import type { AudioFile } from '../library/audio-library';
import { waitForRoom } from '../streaming/flow-control';
import type { PacingConfig } from '../streaming/pacer';
import { firstMessageBytes, prepareStreamFile, StreamSession, type PreparedFile, type SessionEnd, type StreamFaults } from '../streaming/stream-session';
import { setLocalDescriptionWithCandidates } from './local-candidates';
import { chunkSizeForOffer } from './sdp';
import { wrtc } from './wrtc';

export type PeerCloseReason =
  | SessionEnd
  | 'negotiation-failed'
  | 'channel-closed'
  | 'connection-failed'
  | 'connection-closed'
  | 'disconnected'
  | 'open-timeout'
  | 'shutdown'
  /** The peer process crashed (PeerHost): its peers were lost with it. */
  | 'process-died';

export interface PeerTimeouts {
  gatherMs: number;
  channelOpenMs: number;
  disconnectGraceMs: number;
  deferStartIdleMs: number;
  /** A stream paused by its client (flow control) for this long is ended with IDLE_TIMEOUT. */
  pausedIdleMs: number;
  /** After `complete`, how long the peer waits for the client to close before closing itself. */
  completeLingerMs: number;
}

export interface PeerOptions {
  id: number;
  request: OfferRequest;
  file: AudioFile;
  pacing: PacingConfig;
  timeouts: PeerTimeouts;
  duration: () => number | undefined;
  faults?: StreamFaults;
  onClosed(peer: Peer, reason: PeerCloseReason): void;
}

/** The offer was refused by the peer connection (bad SDP) or no usable answer came of it. */
export class NegotiationError extends Error {
  override readonly name = 'NegotiationError';
  constructor(
    readonly kind: 'bad-offer' | 'no-candidates' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

const NEGOTIATION_STEP_TIMEOUT_MS = 5000;
/** How long a server-ended channel may take to close before the peer is closed anyway. */
const GRACEFUL_CLOSE_MS = 2000;
/** How long the client has to close after a stream error before the server closes the peer. */
const ERROR_LINGER_MS = 3000;

export class Peer {
  private pc: RTCPeerConnection | undefined;
  private channel: RTCDataChannel | undefined;
  private session: StreamSession | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private disconnectTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private readonly chunkSize: number;
  /** The stream's file, opened once the answer is ready; handed to the session when the channel opens, else closed with the peer. */
  private prepared: Promise<PreparedFile> | undefined;

  constructor(private readonly options: PeerOptions) {
    this.chunkSize = chunkSizeForOffer(options.request.offer.sdp);
    const pc = newPeerConnection();
    this.pc = pc;
    pc.ondatachannel = (event) => this.adopt(event.channel);
    pc.onconnectionstatechange = () => this.connectionChanged();
  }

  get id(): number {
    return this.options.id;
  }

  /**
   * Applies the offer and returns the answer once it carries at least one ICE candidate
   * (non-trickle, but without waiting for gathering to complete). Throws NegotiationError.
   */
  async negotiate(): Promise<{ answer: RTCSessionDescriptionInit; gatherMs: number }> {
    const pc = this.pc;
    if (pc === undefined) throw new NegotiationError('timeout', 'peer closed during negotiation');
    try {
      await withTimeout(pc.setRemoteDescription({ type: 'offer', sdp: this.options.request.offer.sdp }));
    } catch (error) {
      throw new NegotiationError('bad-offer', `the offer was rejected: ${shortReason(error)}`);
    }
    // A close (shutdown, timeout) may land between steps: never call into a closed peer.
    this.assertOpen();
    const answer = await withTimeout(pc.createAnswer());
    this.assertOpen();
    const { gatherMs: gatherLimit } = this.options.timeouts;
    const gathered = await withTimeout(
      setLocalDescriptionWithCandidates(pc, answer, gatherLimit, () => this.closing !== undefined),
      NEGOTIATION_STEP_TIMEOUT_MS + gatherLimit,
    );
    this.assertOpen();
    if (gathered.candidates === 0) throw new NegotiationError('no-candidates', 'no ICE candidate could be gathered');
    const { sdp, gatherMs } = gathered;
    this.later(() => void this.close('open-timeout'), this.options.timeouts.channelOpenMs, 'open');
    this.prepareFile();
    return { answer: { type: 'answer', sdp }, gatherMs };
  }

  /**
   * Opens the stream's file and reads its first message while the answer travels and the client
   * connects (ICE, DTLS, SCTP: 10 ms and more), so the channel's open finds the file system's part
   * of the first chunk (open, stat, read: three thread-pool trips) done. After the answer, not
   * during the negotiation: that is on the path of the answer itself.
   */
  private prepareFile(): void {
    const { request, file } = this.options;
    const headBytes = firstMessageBytes({ chunkSize: this.chunkSize, deferStart: request.deferStart === true, preloadBytes: request.preloadBytes ?? 0 });
    this.prepared = prepareStreamFile(file.path, request.offset ?? 0, headBytes);
    this.prepared.catch(() => undefined); // the session reports it (FILE_UNAVAILABLE) when the channel opens
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new NegotiationError('timeout', 'peer closed during negotiation');
  }

  /** Closes the peer; on shutdown the client is told first (SHUTTING_DOWN). Idempotent. */
  async shutdown(): Promise<void> {
    if (this.session !== undefined && this.closing === undefined) {
      await this.session.fail('SHUTTING_DOWN', 'the server is shutting down');
      // Give the client a moment to receive SHUTTING_DOWN and close before the peer goes.
      const deadline = Date.now() + 1000;
      while (this.closing === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await this.close('shutdown');
  }

  close(reason: PeerCloseReason): Promise<void> {
    this.closing ??= this.closeOnce(reason);
    return this.closing;
  }

  private async closeOnce(reason: PeerCloseReason): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    clearTimeout(this.disconnectTimer);
    const session = this.session;
    this.session = undefined;
    const stopped = session?.stop();
    const { pc, channel } = this;
    this.pc = undefined;
    this.channel = undefined;
    if (channel !== undefined) {
      channel.onopen = null;
      channel.onmessage = null;
      channel.onclose = null;
      channel.onerror = null;
      try {
        if (channel.readyState === 'open' || channel.readyState === 'connecting') channel.close();
      } catch {
        // already closing: nothing to do
      }
    }
    if (pc !== undefined) {
      pc.ondatachannel = null;
      pc.onconnectionstatechange = null;
      pc.onicecandidate = null;
      try {
        pc.close();
      } catch {
        // already closed
      }
    }
    const prepared = this.prepared;
    this.prepared = undefined;
    // Never handed to a session (negotiation failed, or the channel never opened): close it here.
    void prepared?.then(
      ({ handle }) => handle.close().catch(() => undefined),
      () => undefined,
    );
    await stopped;
    this.options.onClosed(this, reason);
  }

  private adopt(channel: RTCDataChannel): void {
    if (this.closing !== undefined) return;
    if (this.channel !== undefined) {
      // One stream per peer: refuse extra channels without touching the first.
      try {
        channel.close();
      } catch {
        // ignore
      }
      return;
    }
    this.channel = channel;
    channel.binaryType = 'arraybuffer';
    // wrtc invokes these from native callbacks: defer the close so we never tear the peer
    // down from inside one of its own events.
    channel.onclose = () => this.closeSoon(this.endReason ?? 'channel-closed');
    channel.onerror = () => this.closeSoon(this.endReason ?? 'channel-closed');
    channel.onmessage = (event: MessageEvent) => this.session?.message(event.data);
    channel.onopen = () => this.opened(channel);
    if (channel.readyState === 'open') this.opened(channel);
  }

  private opened(channel: RTCDataChannel): void {
    if (this.closing !== undefined || this.session !== undefined) return;
    this.clear('open');
    const negotiated = this.pc?.sctp?.maxMessageSize;
    const chunkSize =
      typeof negotiated === 'number' && negotiated > 0 && Number.isFinite(negotiated)
        ? Math.min(this.chunkSize, negotiated)
        : this.chunkSize;
    const { request, file, pacing, timeouts, duration, faults } = this.options;
    const session = new StreamSession({
      channel,
      file,
      offset: request.offset ?? 0,
      chunkSize,
      deferStart: request.deferStart === true,
      preloadBytes: request.preloadBytes ?? 0,
      pacing,
      duration,
      deferStartIdleMs: timeouts.deferStartIdleMs,
      pausedIdleMs: timeouts.pausedIdleMs,
      ...(request.windowEnd === undefined ? {} : { windowEnd: request.windowEnd }),
      ...(faults ? { faults } : {}),
      ...(this.prepared ? { prepared: this.prepared } : {}),
      onEnd: (reason) => this.sessionEnded(reason),
    });
    this.prepared = undefined; // the session's now
    this.session = session;
    void session.open();
  }

  private sessionEnded(reason: SessionEnd): void {
    if (reason === 'complete' || reason === 'error') {
      // The last message must reach the client: closing anything right after send() can drop
      // what SCTP has not delivered yet (seen with Chromium: the error lost in 7 of 8 runs). The
      // client closes once it has `complete` or `error`; close ourselves if it does not.
      const linger = reason === 'complete' ? this.options.timeouts.completeLingerMs : ERROR_LINGER_MS;
      this.endReason = reason;
      this.later(() => void this.close(reason), linger, 'linger');
      return;
    }
    if (reason === 'send-failed') return this.closeSoon(reason);
    this.endGracefully(reason);
  }

  /**
   * Cuts a stream (the closeAfterBytes test fault) the way a server closing its channel does:
   * the channel once what was sent has left its send buffer (closing with data still queued lost
   * it now and then: a cut meant to fall after 2 chunks came after 1), then the peer once the
   * channel reports closed, or after a short wait.
   */
  private endGracefully(reason: PeerCloseReason): void {
    if (this.closing !== undefined || this.endReason !== undefined) return;
    this.endReason = reason;
    const channel = this.channel;
    const closeChannel = () => {
      try {
        if (channel !== undefined && channel.readyState === 'open') channel.close();
      } catch {
        // closing already
      }
    };
    if (channel === undefined) closeChannel();
    else
      void waitForRoom(channel, 0, 0, () => this.closing !== undefined, GRACEFUL_CLOSE_MS / 2).then(closeChannel, closeChannel);
    this.later(() => void this.close(reason), GRACEFUL_CLOSE_MS, 'graceful');
  }

  /** Set once the server decided to end the stream; the close that follows reports it. */
  private endReason: PeerCloseReason | undefined;

  private connectionChanged(): void {
    const state = this.pc?.connectionState;
    if (state === 'failed') this.closeSoon('connection-failed');
    else if (state === 'closed') this.closeSoon('connection-closed');
    else if (state === 'disconnected') {
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = setTimeout(() => void this.close('disconnected'), this.options.timeouts.disconnectGraceMs);
    } else if (state === 'connected') clearTimeout(this.disconnectTimer);
  }

  private closeSoon(reason: PeerCloseReason): void {
    if (this.closing !== undefined) return;
    setImmediate(() => void this.close(reason));
  }

  private readonly named = new Map<string, NodeJS.Timeout>();

  private later(run: () => void, ms: number, name: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.named.delete(name);
      run();
    }, ms);
    this.timers.add(timer);
    this.named.set(name, timer);
  }

  private clear(name: string): void {
    const timer = this.named.get(name);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
    this.named.delete(name);
  }
}

/** What every server peer is made with: no ICE servers (the client reaches our host candidates). */
export function newPeerConnection(): RTCPeerConnection {
  return new wrtc.RTCPeerConnection({ iceServers: [] });
}

function withTimeout<T>(promise: Promise<T>, ms = NEGOTIATION_STEP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NegotiationError('timeout', `negotiation step took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Never echo SDP (it carries ICE credentials) and keep the message short.
  return message.split('\n')[0]!.slice(0, 160);
}

