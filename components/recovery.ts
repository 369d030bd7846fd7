/**
 * Which failures the controller retries. Pure and by code only (never by message text), so the
 * policy is one readable function with its own tests.
 */
import { STREAM_ERROR_CODES, isRetryableStreamError, type StreamErrorCode } from './protocol.js';
import type { PlayerError } from './errors.js';

export type Recovery = 'ignore' | 'retry' | 'fail';

export function recoveryFor(error: PlayerError): Recovery {
  switch (error.code) {
    case 'ABORTED':
      return 'ignore'; // we cancelled it ourselves (stop, new src, removal)
    case 'SIGNALING_UNREACHABLE':
    case 'SIGNALING_TIMEOUT':
    case 'SIGNALING_BAD_RESPONSE':
    case 'CONNECTION_FAILED':
    case 'CONNECTION_LOST':
    case 'STALLED':
      return error.fatal ? 'fail' : 'retry';
    case 'SIGNALING_HTTP':
      // 4xx cannot succeed by asking again, except 429/503 (which carry Retry-After); 5xx may.
      if (error.status === 429 || error.status === 503) return 'retry';
      if (error.status !== undefined && error.status >= 400 && error.status < 500) return 'fail';
      return error.fatal ? 'fail' : 'retry';
    case 'STREAM_ERROR': {
      const code = error.detail;
      const known = (STREAM_ERROR_CODES as readonly string[]).includes(code ?? '');
      return known && isRetryableStreamError(code as StreamErrorCode) && !error.fatal ? 'retry' : 'fail';
    }
    case 'PROTOCOL':
    case 'UNSUPPORTED_FORMAT':
    case 'DECODE_FAILED':
    case 'AUDIO_CONTEXT':
    case 'RETRIES_EXHAUSTED':
      return 'fail';
  }
}

