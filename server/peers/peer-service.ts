/**
 * What the HTTP side needs from whoever holds the peers: the in-process PeerManager (tests, the
 * isolation switched off) and the PeerHost that keeps them in a supervised child process.
 */
import type { OfferRequest } from '../../components/protocol';
import type { AudioFile } from '../library/audio-library';
import type { StreamFaults } from '../streaming/stream-session';
import type { AcceptedOffer, PeerStats } from './peer-manager';

export interface PeerService {
  readonly activePeers: number;
  stats(): PeerStats;
  /** Creates a peer for the offer and returns its answer; throws HttpError (503, 400, 500). */
  accept(request: OfferRequest, file: AudioFile, faults?: StreamFaults): Promise<AcceptedOffer>;
  closeAll(): Promise<void>;
}
