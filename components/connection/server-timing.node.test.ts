import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerTiming } from './server-timing.js';

test('parseServerTiming: names, durations and descriptions', () => {
  assert.deepEqual(parseServerTiming('answer;dur=2.5;desc="answer, incl. gathering", gather;dur=0.4, cache'), [
    { name: 'answer', duration: 2.5, description: 'answer, incl. gathering' },
    { name: 'gather', duration: 0.4 },
    { name: 'cache' },
  ]);
});

test('parseServerTiming: absent, empty and malformed parts are skipped, not thrown', () => {
  assert.deepEqual(parseServerTiming(null), []);
  assert.deepEqual(parseServerTiming(''), []);
  assert.deepEqual(parseServerTiming(' , ;dur=3, bad name;dur=1, ok;dur=abc;dur=4'), [{ name: 'ok' }]);
  assert.deepEqual(parseServerTiming('a;DUR=1;dur=2;desc=plain'), [{ name: 'a', duration: 1, description: 'plain' }]);
  assert.deepEqual(parseServerTiming('q;desc="say \\"hi\\"; ok"'), [{ name: 'q', description: 'say "hi"; ok' }]);
});

test('parseServerTiming: bounded number of metrics', () => {
  assert.equal(parseServerTiming(Array.from({ length: 100 }, (_, i) => `m${i}`).join(',')).length, 32);
});
