/** Messages between PlaybackEngine (main thread) and its pcm-player worklet, both directions. */

export type PlayerCommand =
  | { type: 'enqueue'; channels: Float32Array[]; sampleRate: number }
  | { type: 'end' }
  | { type: 'play' }
  | { type: 'pause' }
  /** Drop the queue and the position; `epoch` tags every report sent after it. */
  | { type: 'stop'; epoch: number }
  | { type: 'close' };

export type PlayerEvent =
  | 'position' // periodic, while samples flow
  | 'playing' // samples flow (first after play(), or after an underrun was refilled)
  | 'underrun' // playing, queue dry, no end marked
  | 'ended' // the last sample after 'end' was output
  | 'paused' // pause applied (after its short fade): position is final
  | 'resumed' // play applied (the worklet wants to play; samples may still be missing)
  | 'stopped'; // stop applied: queue empty, position 0

export interface PlayerReport {
  type: 'report';
  event: PlayerEvent;
  /** Stop generation this report belongs to; reports of an older one are stale. */
  epoch: number;
  /** Output frames (context rate) of the stream written so far: the play position. */
  playedFrames: number;
  /** Context frame at which `playedFrames` was reached (end of the render quantum). */
  contextFrame: number;
  /** Samples were still flowing at `contextFrame` (the position keeps moving with the clock). */
  flowing: boolean;
  /** Output frames the worklet can still play without more input (queue + resampler). */
  aheadFrames: number;
}

/** The worklet's messages are data from another realm: check them before use. */
export function parsePlayerReport(data: unknown): PlayerReport {
  const r = data as Partial<PlayerReport> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    r.type !== 'report' ||
    typeof r.event !== 'string' ||
    !PLAYER_EVENTS.has(r.event) ||
    typeof r.epoch !== 'number' ||
    typeof r.playedFrames !== 'number' ||
    typeof r.contextFrame !== 'number' ||
    typeof r.flowing !== 'boolean' ||
    typeof r.aheadFrames !== 'number'
  ) {
    throw new TypeError(`pcm-player: malformed report ${JSON.stringify(data)}`);
  }
  return r as PlayerReport;
}

const PLAYER_EVENTS: ReadonlySet<string> = new Set<PlayerEvent>([
  'position',
  'playing',
  'underrun',
  'ended',
  'paused',
  'resumed',
  'stopped',
]);
