/** The few facts the server reads from SDP text. */
import { MAX_CHUNK_SIZE } from '../../components/protocol';

/**
 * Largest binary message to send this peer: min(64 KiB, its `a=max-message-size`). Absent means
 * 64 KiB (RFC 8841 §6), 0 means "no limit". A message over the peer's limit closes the channel.
 */
export function chunkSizeForOffer(sdp: string): number {
  const match = /^a=max-message-size:(\d+)\r?$/m.exec(sdp);
  if (match === null) return MAX_CHUNK_SIZE;
  const value = Number(match[1]);
  if (!Number.isSafeInteger(value) || value === 0) return MAX_CHUNK_SIZE;
  return Math.max(1, Math.min(MAX_CHUNK_SIZE, value));
}
