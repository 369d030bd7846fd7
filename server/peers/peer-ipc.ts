/** Messages between the HTTP process (PeerHost) and the peer process (peer-worker.ts). */
import type { HttpErrorCode, OfferRequest } from '../../components/protocol';
import type { AudioFile } from '../library/audio-library';
import type { StreamFaults } from '../streaming/stream-session';
import type { AcceptedOffer, PeerStats } from './peer-manager';

export type HostMessage =
  /** `duration`: the file's seconds when the HTTP process knows them (it scans the library; we do not). */
  | { type: 'accept'; id: number; request: OfferRequest; file: AudioFile; faults?: StreamFaults; duration?: number }
  | { type: 'close' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'stats'; stats: PeerStats }
  | { type: 'accepted'; id: number; accepted: AcceptedOffer }
  | { type: 'refused'; id: number; status: number; code: HttpErrorCode; message: string; headers: Record<string, string> }
  | { type: 'closed' };
