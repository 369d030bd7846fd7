/**
 * When the next chunk may go: pure arithmetic, no timers, so it is unit-testable.
 *
 * Start-up wants bytes as fast as flow control allows (a player needs its first seconds now);
 * after the burst the stream is paced so hundreds of listeners share the CPU (design: ~20
 * chunks/s of 64 KiB). The rate is in bytes, so a peer that negotiated smaller chunks gets the
 * same throughput with more, smaller messages.
 */
import { MAX_CHUNK_SIZE } from '../../components/protocol';

export interface PacingConfig {
  /** Chunks of MAX_CHUNK_SIZE per second after the burst; 0 = never paced. */
  chunksPerSecond: number;
  /** Unpaced while fewer than this many bytes were sent... */
  burstBytes: number;
  /** ...and while less than this much time passed since the first chunk. */
  burstMs: number;
}

export interface PacerState {
  /** Bytes sent so far in this stream. */
  bytesSent: number;
  /** Time of the first chunk (ms, any monotonic clock). */
  startedAt: number;
  /** Time the previous chunk was sent. */
  lastSentAt: number;
}

/** Milliseconds to wait before sending a chunk of `chunkBytes` at time `now` (0 = send now). */
export function pacingDelay(config: PacingConfig, state: PacerState, chunkBytes: number, now: number): number {
  if (config.chunksPerSecond <= 0) return 0;
  const inBurst = state.bytesSent < config.burstBytes && now - state.startedAt < config.burstMs;
  if (inBurst) return 0;
  const interval = ((1000 / config.chunksPerSecond) * chunkBytes) / MAX_CHUNK_SIZE;
  return Math.max(0, state.lastSentAt + interval - now);
}
