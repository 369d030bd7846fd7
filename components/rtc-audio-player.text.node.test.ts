import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlayerError } from './errors.js';
import { PLAYER_STATES } from './player-state.js';
import { describeError, formatTime, statusText } from './rtc-audio-player.text.js';

describe('player texts', () => {
  it('formats times as m:ss, h:mm:ss past an hour, --:-- when unknown', () => {
    assert.equal(formatTime(0), '0:00');
    assert.equal(formatTime(65.9), '1:05');
    assert.equal(formatTime(3725), '1:02:05');
    assert.equal(formatTime(Number.NaN), '--:--');
    assert.equal(formatTime(Infinity), '--:--');
  });

  it('has a status for every state, and says reconnecting when it is', () => {
    for (const state of PLAYER_STATES) assert.ok(statusText(state, 50, false).length > 0);
    assert.equal(statusText('buffering', 42, false), 'Buffering… 42%');
    assert.equal(statusText('waiting', 0, true), 'Reconnecting…');
    assert.equal(statusText('waiting', 0, false), 'Waiting for data…');
  });

  it('names the cause of an error, through RETRIES_EXHAUSTED too', () => {
    const http = new PlayerError('SIGNALING_HTTP', 'no such track', { status: 404, detail: 'TRACK_NOT_FOUND' });
    assert.equal(describeError(http), 'Server error 404: no such track');
    const gaveUp = new PlayerError('RETRIES_EXHAUSTED', 'x', { cause: new PlayerError('SIGNALING_TIMEOUT', 't') });
    assert.equal(describeError(gaveUp), 'The server did not answer in time. (gave up after retrying)');
  });
});
