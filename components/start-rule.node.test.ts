import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN_START_SECONDS, RATE_SAFETY, canStart, startProgress } from './start-rule.js';

const base = { aheadSeconds: 0, complete: false, bufferSeconds: 10, arrivalRate: undefined, remainingSeconds: undefined };

describe('start rule', () => {
  it('starts once buffer-seconds of audio lie ahead, whatever the rate', () => {
    assert.equal(canStart({ ...base, aheadSeconds: 9.99 }), false);
    assert.equal(canStart({ ...base, aheadSeconds: 10 }), true);
  });

  it('starts a track shorter than buffer-seconds once it is complete', () => {
    assert.equal(canStart({ ...base, aheadSeconds: 3, complete: true }), true);
    assert.equal(canStart({ ...base, aheadSeconds: 3 }), false);
  });

  it('starts early when the discounted arrival rate outpaces playback', () => {
    assert.equal(canStart({ ...base, aheadSeconds: 4, arrivalRate: 100 }), true);
    assert.equal(canStart({ ...base, aheadSeconds: 4, arrivalRate: RATE_SAFETY }), true);
  });

  it('never starts on less than the floor, however fast the data comes', () => {
    assert.equal(canStart({ ...base, aheadSeconds: MIN_START_SECONDS - 0.01, arrivalRate: 1000 }), false);
    // ...but the floor never exceeds buffer-seconds.
    assert.equal(canStart({ ...base, bufferSeconds: 0.5, aheadSeconds: 0.5, arrivalRate: 1000 }), true);
  });

  it('with a slow rate, starts only when the buffer covers the deficit until the end', () => {
    // Discounted rate 0.5: 20 s remaining need 40 s of download, so 20 s must already be ahead.
    const slow = { ...base, bufferSeconds: 60, arrivalRate: 1, remainingSeconds: 20 };
    assert.equal(canStart({ ...slow, aheadSeconds: 19.9 }), false);
    assert.equal(canStart({ ...slow, aheadSeconds: 20 }), true);
    // Unknown remaining length: a slow rate never proves anything.
    assert.equal(canStart({ ...slow, aheadSeconds: 50, remainingSeconds: undefined }), false);
  });

  it('ignores a missing or zero rate', () => {
    assert.equal(canStart({ ...base, aheadSeconds: 5, arrivalRate: 0 }), false);
    assert.equal(canStart({ ...base, aheadSeconds: 5, arrivalRate: Number.NaN }), false);
  });

  it('reports progress toward the threshold, clamped, full when complete', () => {
    assert.equal(startProgress(5, 10, false), 0.5);
    assert.equal(startProgress(15, 10, false), 1);
    assert.equal(startProgress(-1, 10, false), 0);
    assert.equal(startProgress(1, 10, true), 1);
  });
});
