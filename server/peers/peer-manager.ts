/**
 * Every server-side peer lives here: admission (MAX_PEERS), creation, and closing them all on
 * shutdown. `activePeers` counts a peer from its offer until its close sequence has finished.
 */
import type { OfferRequest } from '../../components/protocol';
import type { Config } from '../config';
import { HttpError } from '../errors';
import type { AudioFile, AudioLibrary } from '../library/audio-library';
import type { Logger } from '../log';
import type { StreamFaults } from '../streaming/stream-session';
import { NativeReclaimer } from './native-reclaim';
import { NegotiationError, Peer, type PeerCloseReason } from './peer';

export interface AcceptedOffer {
  answer: { type: 'answer'; sdp: string };
  /** ms waiting for the first local ICE candidate. */
  gatherMs: number;
  /** ms from the offer reaching the peer manager to its answer (set-up of the wrtc peer, gathering included). */
  negotiateMs: number;
}

export interface PeerStats {
  activePeers: number;
  maxPeers: number;
  peersCreated: number;
  peersClosed: number;
  closeReasons: Partial<Record<PeerCloseReason, number>>;
}

export class PeerManager {
  private readonly peers = new Set<Peer>();
  private nextId = 1;
  private closedCount = 0;
  private readonly reasons: Partial<Record<PeerCloseReason, number>> = {};
  private shuttingDown = false;
  private readonly reclaimer = new NativeReclaimer();

  constructor(
    private readonly config: Config,
    private readonly library: AudioLibrary,
    private readonly log: Logger,
  ) {}

  get activePeers(): number {
    return this.peers.size;
  }

  stats(): PeerStats {
    return {
      activePeers: this.peers.size,
      maxPeers: this.config.maxPeers,
      peersCreated: this.nextId - 1,
      peersClosed: this.closedCount,
      closeReasons: { ...this.reasons },
    };
  }

  /** Creates a peer for the offer and returns its answer; throws HttpError (503, 400, 500). */
  async accept(request: OfferRequest, file: AudioFile, faults?: StreamFaults, knownDuration?: number): Promise<AcceptedOffer> {
    if (this.shuttingDown) throw new HttpError(503, 'SERVER_BUSY', 'the server is shutting down', { 'Retry-After': '2' });
    if (this.peers.size >= this.config.maxPeers) {
      throw new HttpError(503, 'SERVER_BUSY', 'too many listeners right now', { 'Retry-After': '2' });
    }
    const { config, library } = this;
    const started = performance.now();
    const peer = new Peer({
      id: this.nextId++,
      request,
      file,
      pacing: { chunksPerSecond: config.paceChunksPerSecond, burstBytes: config.burstBytes, burstMs: config.burstMs },
      timeouts: {
        gatherMs: config.gatherTimeoutMs,
        channelOpenMs: config.channelOpenTimeoutMs,
        disconnectGraceMs: config.disconnectGraceMs,
        deferStartIdleMs: config.deferStartIdleMs,
        pausedIdleMs: config.pausedIdleMs,
        completeLingerMs: config.completeLingerMs,
      },
      duration: () => knownDuration ?? library.cachedDuration(file),
      ...(faults ? { faults } : {}),
      onClosed: (closed, reason) => this.closed(closed, reason),
    });
    this.peers.add(peer);
    try {
      const { answer, gatherMs } = await peer.negotiate();
      return { answer: { type: 'answer', sdp: answer.sdp ?? '' }, gatherMs, negotiateMs: performance.now() - started };
    } catch (error) {
      await peer.close('negotiation-failed');
      if (error instanceof NegotiationError) {
        if (error.kind === 'bad-offer') throw new HttpError(400, 'BAD_OFFER', error.message);
        if (this.shuttingDown) throw new HttpError(503, 'SERVER_BUSY', 'the server is shutting down', { 'Retry-After': '2' });
        throw new HttpError(500, 'INTERNAL', error.message);
      }
      throw error;
    }
  }

  /** Tells every streaming client SHUTTING_DOWN and closes every peer. */
  async closeAll(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.peers].map((peer) => peer.shutdown().catch(() => undefined)));
    this.reclaimer.close();
  }

  private closed(peer: Peer, reason: PeerCloseReason): void {
    if (!this.peers.delete(peer)) return;
    this.closedCount += 1;
    this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
    if (!this.shuttingDown) this.reclaimer.peerClosed();
    this.log.debug(`peer ${peer.id} closed: ${reason}`);
  }
}
