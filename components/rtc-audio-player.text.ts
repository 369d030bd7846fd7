/** The words the player shows. Pure, so labels are tested without a browser. */
import type { PlayerError } from './errors.js';
import type { PlayerState } from './player-state.js';

export function statusText(state: PlayerState, progressPercent: number, reconnecting: boolean): string {
  switch (state) {
    case 'idle':
      return 'Ready to play';
    case 'connecting':
      return reconnecting ? 'Reconnecting…' : 'Connecting…';
    case 'buffering':
      return `Buffering… ${progressPercent}%`;
    case 'ready':
      return 'Ready';
    case 'playing':
      return 'Playing';
    case 'paused':
      return 'Paused';
    case 'waiting':
      return reconnecting ? 'Reconnecting…' : 'Waiting for data…';
    case 'stopped':
      return 'Stopped';
    case 'ended':
      return 'Ended';
    case 'error':
      return 'Error';
  }
}

/** A sentence naming the cause, for the error part. */
export function describeError(error: PlayerError): string {
  const cause = error.cause instanceof Error && 'code' in error.cause ? (error.cause as PlayerError) : undefined;
  switch (error.code) {
    case 'RETRIES_EXHAUSTED':
      return cause ? `${describeError(cause)} (gave up after retrying)` : `Connection failed: ${error.message}`;
    case 'SIGNALING_UNREACHABLE':
      return 'Server unreachable.';
    case 'SIGNALING_TIMEOUT':
      return 'The server did not answer in time.';
    case 'SIGNALING_HTTP':
      return `Server error ${error.status ?? ''}: ${error.message}`.replace('  ', ' ');
    case 'SIGNALING_BAD_RESPONSE':
      return 'The server sent an invalid answer.';
    case 'CONNECTION_FAILED':
      return 'Could not connect to the server.';
    case 'CONNECTION_LOST':
    case 'STALLED':
      return 'The connection to the server was lost.';
    case 'STREAM_ERROR':
      return `The server could not stream this track: ${error.message}`;
    case 'UNSUPPORTED_FORMAT':
      return 'This audio format is not supported.';
    case 'DECODE_FAILED':
      return 'The audio could not be decoded.';
    case 'AUDIO_CONTEXT':
      return 'Audio output could not start.';
    case 'PROTOCOL':
      return `The server broke the protocol: ${error.message}`;
    case 'ABORTED':
      return 'Cancelled.';
  }
}

/** m:ss (h:mm:ss from an hour); `--:--` while unknown. */
export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
