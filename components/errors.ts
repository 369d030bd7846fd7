/**
 * Errors of the player as data: a stable `code` (public API, documented in the README), whether
 * it is `fatal` for the current stream, and the underlying cause. Recovery is decided in one
 * place (the player controller) by code, never by matching message text.
 */
export const PLAYER_ERROR_CODES = [
  'SIGNALING_UNREACHABLE', // fetch of /api/offer failed at the network level
  'SIGNALING_TIMEOUT', // /api/offer did not answer within the timeout
  'SIGNALING_HTTP', // /api/offer answered with an HTTP error (status + server code in `detail`)
  'SIGNALING_BAD_RESPONSE', // /api/offer answered 200 with a body that is not an answer
  'CONNECTION_FAILED', // ICE/DTLS failed or the channel never opened
  'CONNECTION_LOST', // the peer connection or DataChannel dropped mid-stream
  'STALLED', // no data for the stall timeout while the server had not said complete
  'STREAM_ERROR', // the server sent { type: "error" } (server code in `detail`)
  'PROTOCOL', // the server sent something the protocol does not allow
  'UNSUPPORTED_FORMAT', // the bytes are no format we can parse or the browser cannot decode
  'DECODE_FAILED', // decoding failed repeatedly (3 consecutive failures)
  'AUDIO_CONTEXT', // the AudioContext could not be created or resumed
  'RETRIES_EXHAUSTED', // reconnecting gave up; `cause` is the last error
  'ABORTED', // the operation was cancelled by stop()/disconnect/new src
] as const;

export type PlayerErrorCode = (typeof PLAYER_ERROR_CODES)[number];

export interface PlayerErrorInit {
  /** Ends the current stream (no automatic recovery will follow). */
  fatal?: boolean;
  /** HTTP status, when the error came from an HTTP answer. */
  status?: number;
  /** The server's own code (HTTP error body or stream error message). */
  detail?: string;
  /** Milliseconds the server asked us to wait (Retry-After). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class PlayerError extends Error {
  override readonly name = 'PlayerError';
  readonly fatal: boolean;
  readonly status: number | undefined;
  readonly detail: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: PlayerErrorCode,
    message: string,
    init: PlayerErrorInit = {},
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.fatal = init.fatal ?? false;
    this.status = init.status;
    this.detail = init.detail;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** Wraps anything thrown into a PlayerError, keeping PlayerErrors as they are. */
export function toPlayerError(error: unknown, code: PlayerErrorCode, message: string): PlayerError {
  return error instanceof PlayerError ? error : new PlayerError(code, message, { cause: error });
}
