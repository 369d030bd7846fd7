import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BACKOFF, MAX_RETRY_AFTER_MS, backoffDelay, retryAfterMs } from './backoff.js';

const fixed = (value: number) => () => value;

test('backoffDelay: nominal 500 → 1000 → 2000 → 4000 ms at the top of the jitter range', () => {
  const almostOne = fixed(0.999999);
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n, DEFAULT_BACKOFF, almostOne)), [500, 1000, 2000, 4000]);
});

test('backoffDelay: equal jitter keeps at least half of the nominal delay', () => {
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n, DEFAULT_BACKOFF, fixed(0))), [250, 500, 1000, 2000]);
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n, DEFAULT_BACKOFF, fixed(0.5))), [375, 750, 1500, 3000]);
});

test('backoffDelay: random delays stay in range and never shrink from one attempt to the next', () => {
  for (let run = 0; run < 200; run += 1) {
    let previous = 0;
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const delay = backoffDelay(attempt);
      const nominal = Math.min(4000, 500 * 2 ** attempt);
      assert.ok(delay >= nominal / 2 && delay <= nominal, `attempt ${attempt}: ${delay}`);
      assert.ok(delay >= previous || nominal === 4000, `attempt ${attempt}: ${delay} < ${previous}`);
      previous = delay;
      assert.ok(Number.isInteger(delay));
    }
  }
});

test('backoffDelay: never above the cap, whatever the attempt or the random source', () => {
  const policy = { baseMs: 500, capMs: 4000, retries: 4 };
  for (const attempt of [4, 10, 60, 1100, Number.MAX_SAFE_INTEGER, Infinity]) {
    const delay = backoffDelay(attempt, policy, fixed(0.999));
    assert.ok(delay >= 2000 && delay <= 4000, `${attempt}: ${delay}`);
  }
  // A misbehaving random source (outside [0, 1)) is clamped, not trusted.
  assert.equal(backoffDelay(3, policy, fixed(7)), 4000);
  assert.equal(backoffDelay(3, policy, fixed(-3)), 2000);
  assert.equal(backoffDelay(0, { baseMs: 800, capMs: 300, retries: 1 }, fixed(0.999)), 300);
});

test('backoffDelay: negative, fractional and NaN attempts count as the first or the floor', () => {
  assert.equal(backoffDelay(-1, DEFAULT_BACKOFF, fixed(0)), 250);
  assert.equal(backoffDelay(Number.NaN, DEFAULT_BACKOFF, fixed(0)), 250);
  assert.equal(backoffDelay(1.7, DEFAULT_BACKOFF, fixed(0)), 500);
});

test('retryAfterMs: delta-seconds', () => {
  assert.equal(retryAfterMs('0'), 0);
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(' 12 '), 12000);
});

test('retryAfterMs: HTTP-date relative to now, a past date is 0', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', now), 5000);
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
  // The obsolete RFC 850 form that RFC 9110 still asks recipients to accept.
  assert.equal(retryAfterMs('Wednesday, 21-Oct-15 07:28:02 GMT', now), 2000);
});

test('retryAfterMs: bounded to a sane maximum', () => {
  assert.equal(retryAfterMs('86400'), MAX_RETRY_AFTER_MS);
  assert.equal(retryAfterMs('99999999999999999999'), MAX_RETRY_AFTER_MS);
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  assert.equal(retryAfterMs('Thu, 22 Oct 2015 07:28:00 GMT', now), MAX_RETRY_AFTER_MS);
});

test('retryAfterMs: absent or malformed headers give undefined, never NaN', () => {
  for (const header of [null, undefined, '', '   ', '-1', '1.5', '1e3', '+5', 'soon', 'Wed, 99 Foo 2015', '5 seconds']) {
    assert.equal(retryAfterMs(header), undefined, JSON.stringify(header));
  }
});
