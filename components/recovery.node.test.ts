import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlayerError } from './errors.js';
import { recoveryFor } from './recovery.js';

const http = (status: number, retryAfterMs?: number) =>
  new PlayerError('SIGNALING_HTTP', `HTTP ${status}`, { status, fatal: status >= 400 && status < 500 && status !== 429, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });

describe('recovery policy', () => {
  it('retries network-level failures and drops', () => {
    for (const code of ['SIGNALING_UNREACHABLE', 'SIGNALING_TIMEOUT', 'CONNECTION_FAILED', 'CONNECTION_LOST', 'STALLED'] as const) {
      assert.equal(recoveryFor(new PlayerError(code, code)), 'retry', code);
    }
  });

  it('does not retry 4xx, except 429 and 503; retries 500', () => {
    assert.equal(recoveryFor(http(404)), 'fail');
    assert.equal(recoveryFor(http(400)), 'fail');
    assert.equal(recoveryFor(http(415)), 'fail');
    assert.equal(recoveryFor(http(429)), 'retry');
    assert.equal(recoveryFor(http(503)), 'retry');
    assert.equal(recoveryFor(http(500)), 'retry');
  });

  it('follows the protocol on stream errors', () => {
    const stream = (detail: string) => new PlayerError('STREAM_ERROR', detail, { detail });
    assert.equal(recoveryFor(stream('READ_FAILED')), 'retry');
    assert.equal(recoveryFor(stream('SHUTTING_DOWN')), 'retry');
    assert.equal(recoveryFor(stream('FILE_CHANGED')), 'fail');
    assert.equal(recoveryFor(stream('FILE_UNAVAILABLE')), 'fail');
    assert.equal(recoveryFor(stream('SOMETHING_NEW')), 'fail');
  });

  it('fails on format, decode and protocol errors, ignores its own aborts', () => {
    for (const code of ['PROTOCOL', 'UNSUPPORTED_FORMAT', 'DECODE_FAILED', 'AUDIO_CONTEXT', 'RETRIES_EXHAUSTED'] as const) {
      assert.equal(recoveryFor(new PlayerError(code, code)), 'fail', code);
    }
    assert.equal(recoveryFor(new PlayerError('ABORTED', 'stop')), 'ignore');
  });
});
